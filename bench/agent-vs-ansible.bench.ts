/**
 * Issue 10, speed: `hostname` on 20 test hosts by Canopy and by Ansible, in the same run, over the
 * same hosts. Each host runs an agent (connected to a control center in this process, PGlite) and an
 * sshd (Debian's openssh-server, in the host's namespace, a temp host key, key-only root login).
 *  - Canopy: a job through the API (`POST /api/v1/jobs`, all 20 in one batch), timed from the
 *    request to the job's `succeeded` (every host's output stored);
 *  - Ansible: `ansible all -i inv -f 20 -m command -a hostname` (Debian's ansible, its defaults,
 *    so SSH connection multiplexing is on and later rounds reuse the first round's connections).
 * Several rounds each, alternating; medians. Target: Canopy ≥ 10× faster.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canMakeTestHosts, createTestHosts, mkNodes, startTestServer, testBackends, type TestHost } from '../packages/server/src/testing/index.ts';
import { enrollHosts, startAgent, until, type RunningAgent } from '../packages/agent/src/testing.ts';
import { percentile } from './stats.ts';

const HOSTS = 20;
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 5);
const SSHD = '/usr/sbin/sshd';

const missing = canMakeTestHosts() ?? (!existsSync(SSHD) ? 'sshd not installed: apt-get install openssh-server' : undefined) ?? (() => {
  try {
    execFileSync('ansible', ['--version'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'ansible not installed: apt-get install ansible';
  }
})();
if (missing) {
  console.log(`SKIPPED: ${missing}`);
  process.exit(0);
}

const dir = mkdtempSync(join(tmpdir(), 'canopy-vs-ansible-'));
const key = join(dir, 'id_ed25519');
execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'host_key')]);
execFileSync('cp', [`${key}.pub`, join(dir, 'authorized_keys')]);
// sshd's privilege-separation directory, made by the Debian unit at boot (absent in containers).
mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });

/** Start sshd in `host`'s namespace on its address, key-only root login with our key. */
function startSshd(host: TestHost): ChildProcess {
  const config = join(dir, `sshd-${host.index}.conf`);
  writeFileSync(config, [
    `ListenAddress ${host.address}:22`, `HostKey ${join(dir, 'host_key')}`, `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    'PermitRootLogin prohibit-password', 'PasswordAuthentication no', 'KbdInteractiveAuthentication no', 'UsePAM no',
    'StrictModes no', 'PidFile none', 'MaxStartups 100', 'MaxSessions 100', 'LogLevel ERROR', 'Subsystem sftp internal-sftp', '',
  ].join('\n'));
  return host.spawn([SSHD, '-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
}

const median = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 50);

const hosts = createTestHosts(HOSTS, 'vs-ansible');
const s = await startTestServer(testBackends()[0]!);
const agents: RunningAgent[] = [];
const sshds: ChildProcess[] = [];
try {
  await s.app.listen({ host: hosts.gateway, port: 0 });
  const url = `http://${hosts.gateway}:${(s.app.server.address() as { port: number }).port}`;
  const creds = await enrollHosts(s, hosts.hosts);
  await mkNodes(s, 'bench.hosts');
  for (const h of hosts.hosts) await s.call('PUT', `/api/v1/nodes/bench.hosts/machines/${h.hostname}`);
  for (const h of hosts.hosts) sshds.push(startSshd(h));
  for (const h of hosts.hosts) agents.push(startAgent(h, url, creds.get(h.hostname)!.token));
  await until('every agent connected', () => hosts.hosts.every((h) => s.services.dispatcher.connectedHere(creds.get(h.hostname)!.id)), 300_000);

  const inventory = join(dir, 'inventory.ini');
  writeFileSync(inventory, ['[all]', ...hosts.hosts.map((h) => `${h.hostname} ansible_host=${h.address}`), '',
    '[all:vars]', 'ansible_user=root', `ansible_ssh_private_key_file=${key}`, 'ansible_python_interpreter=/usr/bin/python3', ''].join('\n'));
  const home = join(dir, 'home');
  mkdirSync(home, { mode: 0o700 });
  chmodSync(key, 0o600);
  const env = { ...process.env, HOME: home, ANSIBLE_HOST_KEY_CHECKING: 'False', ANSIBLE_REMOTE_TMP: join(dir, 'remote-tmp'), ANSIBLE_LOCAL_TEMP: join(dir, 'local-tmp'), ANSIBLE_NOCOLOR: '1' };

  const ansible = (): number => {
    const t = process.hrtime.bigint();
    const out = execFileSync('ansible', ['all', '-i', inventory, '-f', String(HOSTS), '-m', 'command', '-a', 'hostname'], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const ms = Number(process.hrtime.bigint() - t) / 1e6;
    const ok = (out.match(/\| CHANGED \| rc=0/g) ?? []).length;
    if (ok !== HOSTS) throw new Error(`ansible: ${ok}/${HOSTS} hosts answered:\n${out}`);
    return ms;
  };

  const canopy = async (): Promise<number> => {
    const t = process.hrtime.bigint();
    const r = await s.call('POST', '/api/v1/jobs', { target: { under: 'bench.hosts' }, command: ['hostname'], batch: { size: '100%' } });
    if (r.status !== 201) throw new Error(`job: ${r.status} ${JSON.stringify(r.body)}`);
    const id = r.body.id as number;
    // Woken by the job's own changes (no polling interval in the figure).
    await new Promise<void>((resolve, reject) => {
      let busy = false;
      let again = false;
      const check = async (): Promise<void> => {
        if (busy) {
          again = true;
          return;
        }
        busy = true;
        const d = await s.services.jobs.detail(id);
        busy = false;
        if (d.state === 'succeeded') return (off(), resolve());
        if (['failed', 'stopped', 'paused'].includes(d.state)) return (off(), reject(new Error(`job ${id} ${d.state}`)));
        if (again) {
          again = false;
          return check();
        }
      };
      const off = s.services.jobs.follow(id, () => void check().catch(reject));
      void check().catch(reject);
    });
    const ms = Number(process.hrtime.bigint() - t) / 1e6;
    const d = await s.services.jobs.detail(id);
    if (d.counts['succeeded'] !== HOSTS) throw new Error(`job ${id}: ${JSON.stringify(d.counts)}`);
    return ms;
  };

  await canopy(); // warm-up: first job compiles the paths it takes
  const times = { canopy: [] as number[], ansible: [] as number[] };
  for (let i = 0; i < ROUNDS; i++) {
    times.ansible.push(ansible());
    times.canopy.push(await canopy());
  }
  const c = median(times.canopy);
  const a = median(times.ansible);
  const fmtAll = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(', ');
  console.log(`| \`hostname\` on ${HOSTS} test hosts, ${ROUNDS} rounds | median ms | every round, ms |`);
  console.log('|---|---|---|');
  console.log(`| Canopy (job through the API → all results stored) | ${c.toFixed(0)} | ${fmtAll(times.canopy)} |`);
  console.log(`| Ansible \`-f ${HOSTS} -m command\` (OpenSSH, ControlPersist) | ${a.toFixed(0)} | ${fmtAll(times.ansible)} |`);
  console.log(`| Canopy speed-up (target ≥ 10×) | ${(a / c).toFixed(1)}× | |`);
} finally {
  for (const x of agents) await x.stop();
  for (const p of sshds) {
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    await exited;
  }
  await s.close();
  hosts.close();
  rmSync(dir, { recursive: true, force: true });
}
