/**
 * `canopy-agent`: `run` (the daemon) and `enroll` (exchange an install request's enrollment token
 * for this machine's credential, then run).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startDaemon } from './daemon.ts';
import { enroll } from './enroll.ts';
import { openStorage } from './storage.ts';

const USAGE = `usage:
  canopy-agent run    [--url URL --token cnm_…] [--state-dir DIR] [--hostname NAME] [--ca FILE] [--insecure-http]
  canopy-agent enroll --url URL --token TOKEN [--state-dir DIR] [--hostname NAME] [--ca FILE] [--insecure-http] [--no-run]

  --state-dir   where the credential and tasks live (default /var/lib/canopy-agent)
  --hostname    the name to claim instead of the OS hostname (test hosts)
  --ca          PEM file of the CA that signed the control center's certificate
  --insecure-http  allow http:// to a host other than loopback`;

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

const daemon = startDaemon({
  url,
  token,
  stateDir,
  hostname: values.hostname ?? (saved?.hostname || undefined),
  caPem: caPem ?? saved?.caPem,
  fingerprint: saved?.fingerprint,
  allowInsecure: values['insecure-http'],
});
for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.once(sig, () => {
    void daemon.stop().then(() => process.exit(0));
  });
}
