/**
 * `canopy-agent`: `run` (the daemon) and `enroll` (exchange an install request's enrollment token
 * for this machine's credential, then run).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startDaemon } from './daemon.ts';
import { enroll } from './enroll.ts';
import { checkTransport } from './session.ts';
import { parseRebootCommand } from './exec/reboot.ts';
import { configTargets } from './exec/config.ts';
import { openStorage } from './storage.ts';
import { parseListen } from './metrics/module.ts';

const USAGE = `usage:
  canopy-agent run    [--url URL --token cnm_…] [--state-dir DIR] [--hostname NAME] [--ca FILE] [--insecure-http]
  canopy-agent enroll --url URL --token TOKEN [--state-dir DIR] [--hostname NAME] [--ca FILE] [--insecure-http] [--no-run]

  --state-dir   where the credential and tasks live (default /var/lib/canopy-agent)
  --hostname    the name to claim instead of the OS hostname (test hosts)
  --ca          PEM file of the CA that signed the control center's certificate
  --insecure-http  allow http:// to a host other than loopback
  --reboot-command  how to reboot: words or a JSON array (default: systemctl reboot under systemd, else /sbin/reboot)
  --reboot-grace-seconds  after the reboot command, how long the old boot may last before the task fails (default 300)
  --boot-id-file  read the boot id from this file instead of the kernel (test hosts)
  --apps-dir DIR  where deployed releases are unpacked: DIR/<service>/releases/<version>, with
                DIR/<service>/current the one running (default <state dir>/apps; apps run as
                another user than root need a DIR they can enter)
  --facts-check-seconds  how often facts are re-read (default 60; sent when changed, and hourly)
  --nginx-conf FILE --nginx-include-dir DIR [--nginx-bin FILE] [--nginx-pid FILE]
                the nginx whose include dir \`config\` tasks manage (nginx -t, nginx -s reload; with
                --nginx-pid a reload counts once new workers run)
  --keepalived-conf FILE --keepalived-pid FILE [--keepalived-bin FILE]
                the keepalived file LVS \`config\` tasks write (checked, then SIGHUP to the pid)
  --access-log-dir DIR  where nginx writes relative access logs, unless the cluster sets a logDir
                (default: the directory of --nginx-conf)
  --access-log-interval-seconds  the access-count window (default 10)
  --ssh-dir DIR  manage SSH logins from the tree: the keys command and its answers live in DIR
                (root-owned, every parent too); also --ssh-sudoers FILE (/etc/sudoers.d/canopy),
                --ssh-sshd-config FILE (/etc/ssh/sshd_config.d/canopy.conf), --ssh-command-user NAME
                (canopy-ssh), --ssh-auth-log FILE (sshd's log, /var/log/auth.log), --ssh-sshd-pid FILE
                (SIGHUP when its settings change), --ssh-host-key FILE (repeatable; host keys to certify,
                default /etc/ssh/ssh_host_ed25519_key.pub)
  --metrics-listen HOST:PORT  serve machine metrics on http://HOST:PORT/metrics (Prometheus text;
                default: not served; they are pushed to the control center either way)
  --metrics-interval-seconds  seconds between metric collections (default 10)`;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    url: { type: 'string' },
    token: { type: 'string' },
    'state-dir': { type: 'string', default: '/var/lib/canopy-agent' },
    hostname: { type: 'string' },
    ca: { type: 'string' },
    'insecure-http': { type: 'boolean', default: false },
    'no-run': { type: 'boolean', default: false },
    'reboot-command': { type: 'string' },
    'reboot-grace-seconds': { type: 'string' },
    'boot-id-file': { type: 'string' },
    'facts-check-seconds': { type: 'string' },
    'apps-dir': { type: 'string' },
    'nginx-conf': { type: 'string' },
    'nginx-include-dir': { type: 'string' },
    'nginx-bin': { type: 'string' },
    'nginx-pid': { type: 'string' },
    'keepalived-conf': { type: 'string' },
    'keepalived-pid': { type: 'string' },
    'keepalived-bin': { type: 'string' },
    'access-log-dir': { type: 'string' },
    'access-log-interval-seconds': { type: 'string' },
    'ssh-dir': { type: 'string' },
    'ssh-sudoers': { type: 'string' },
    'ssh-sshd-config': { type: 'string' },
    'ssh-command-user': { type: 'string' },
    'ssh-auth-log': { type: 'string' },
    'ssh-sshd-pid': { type: 'string' },
    'ssh-host-key': { type: 'string', multiple: true },
    'metrics-listen': { type: 'string' },
    'metrics-interval-seconds': { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

function fail(msg: string): never {
  console.error(`canopy-agent: ${msg}`);
  process.exit(2);
}

const command = positionals[0] ?? 'run';
if (values.help || !['run', 'enroll'].includes(command)) {
  console.log(USAGE);
  process.exit(values.help ? 0 : 2);
}
const stateDir = values['state-dir'];
const storage = openStorage(stateDir);
const caPem = values.ca ? readFileSync(values.ca, 'utf8') : undefined;

if (command === 'enroll') {
  if (!values.url || !values.token) fail('enroll needs --url and --token');
  try {
    const c = await enroll({ url: values.url, token: values.token, storage, hostname: values.hostname, caPem, allowInsecure: values['insecure-http'] });
    console.log(`enrolled as ${c.hostname}; credential saved in ${storage.credentialPath}`);
  } catch (err) {
    fail(`enrollment failed: ${(err as Error).message}`);
  }
  if (values['no-run']) process.exit(0);
}

const saved = storage.readCredential();
const url = values.url ?? saved?.url;
const token = command === 'run' && values.token ? values.token : saved?.token;
if (!url || !token) fail(`no credential in ${stateDir}: run \`canopy-agent enroll\` or pass --url and --token`);
if (command === 'run' && values.token && values.url) storage.writeCredential({ url, token, hostname: values.hostname ?? saved?.hostname ?? '' });

function seconds(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[0-9]{1,7}$/.test(value) || Number(value) < 1) fail(`--${flag} takes a whole number of seconds, at least 1`);
  return Number(value);
}
let rebootArgv: string[] | undefined;
try {
  rebootArgv = values['reboot-command'] === undefined ? undefined : parseRebootCommand(values['reboot-command']);
} catch (err) {
  fail((err as Error).message);
}
let targets: ReturnType<typeof configTargets> = {};
try {
  targets = configTargets(values);
} catch (err) {
  fail((err as Error).message);
}
const settings = {
  ...targets,
  rebootCommand: rebootArgv,
  rebootGraceSeconds: seconds('reboot-grace-seconds', values['reboot-grace-seconds']),
  bootIdFile: values['boot-id-file'],
  appsDir: values['apps-dir'],
  metrics: { listen: values['metrics-listen'], intervalSeconds: seconds('metrics-interval-seconds', values['metrics-interval-seconds']) },
  accessLog: { dir: values['access-log-dir'], intervalSeconds: seconds('access-log-interval-seconds', values['access-log-interval-seconds']) },
  ssh: values['ssh-dir'] === undefined ? undefined : { dir: values['ssh-dir'], sudoersFile: values['ssh-sudoers'], sshdConfigFile: values['ssh-sshd-config'], commandUser: values['ssh-command-user'], authLog: values['ssh-auth-log'], sshdPidFile: values['ssh-sshd-pid'], hostKeys: values['ssh-host-key'] },
};

try {
  if (values['metrics-listen'] !== undefined) parseListen(values['metrics-listen']);
} catch (err) {
  fail((err as Error).message);
}
try {
  checkTransport(url, values['insecure-http']);
} catch (err) {
  fail((err as Error).message);
}
const daemon = startDaemon({
  url,
  token,
  stateDir,
  hostname: values.hostname ?? (saved?.hostname || undefined),
  caPem: caPem ?? saved?.caPem,
  fingerprint: saved?.fingerprint,
  allowInsecure: values['insecure-http'],
  settings,
  factsCheckSeconds: seconds('facts-check-seconds', values['facts-check-seconds']),
});
for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.once(sig, () => {
    void daemon.stop().then(() => process.exit(0));
  });
}
