/**
 * Deployments under faults: the control center (its own process, `npm start`'s entry) killed with
 * -9 between two batches and started again on the same data; an agent killed with -9 while its
 * host's new release is starting and started again on its state dir. Each deployment finishes, every
 * host serves the new version, and no host switched twice (its log says `current ->` once).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create } from 'tar';
import { canMakeTestHosts, createTestHosts, type TestHosts } from '@canopy/server/testing';
import { enrollHosts, startAgent, startControlCenter, until, type ControlCenterProcess, type RunningAgent } from '../testing.ts';

const noHosts = canMakeTestHosts();
const PORT = 18095;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

// Answers its version; a release with a SLOW file listens only after 3 s (a slow start to kill into).
const SERVER = `
import { createServer } from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
const version = readFileSync('VERSION', 'utf8').trim();
const server = createServer((req, res) => res.end(version));
setTimeout(() => server.listen(Number(process.env.PORT), '0.0.0.0'), existsSync('SLOW') ? 3000 : 0);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

interface Detail {
  state: string;
  reason: string | null;
  hosts: { hostname: string; state: string; batch: number }[];
}

describe('deployments under faults', { skip: noHosts && `test hosts unavailable: ${noHosts}`, timeout: 600_000 }, () => {
  let hosts: TestHosts;
  let cc: ControlCenterProcess;
  const agents: RunningAgent[] = [];
  const work = mkdtempSync(join(tmpdir(), 'canopy-deploy-faults-'));

  const detail = async (id: number) => (await cc.call('GET', `/api/v1/deployments/${id}`)).body as Detail;
  const reaches = async (id: number, ok: (d: Detail) => boolean, what: string) => {
    let last: Detail | undefined;
    await until(`deployment #${id} ${what}`, async () => ok((last = await detail(id))), 120_000).catch((err) => {
      const logs = agents.map((a) => `--- ${a.host.hostname}\n${a.log.slice(-10).join('\n')}`).join('\n');
      throw new Error(`${(err as Error).message}: ${JSON.stringify(last)}\n${logs}\n--- server\n${cc.log.slice(-15).join('\n')}`);
    });
    return last!;
  };
  const serving = async () => {
    const out: string[] = [];
    for (const h of hosts.hosts) out.push(await fetch(`http://${h.address}:${PORT}/`, { signal: AbortSignal.timeout(2000) }).then((r) => r.text(), () => 'down'));
    return out;
  };
  const deploy = async (version: string, strategy: Record<string, unknown>) => {
    const r = await cc.call('POST', '/api/v1/deployments', { nodePath: 'corp.fault', version, strategy: { batch: 1, monitorSeconds: 0, ...strategy } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body.id as number;
  };
  /** How many times the host's log in deployment `id` says it switched `current`. */
  const switches = async (id: number, hostname: string) => {
    const log = (await cc.call('GET', `/api/v1/deployments/${id}/hosts/${hostname}/log`)).body.text as string;
    return log.match(/current -> releases\//g)?.length ?? 0;
  };

  async function push(version: string, opts: { slow?: boolean } = {}): Promise<void> {
    const src = join(work, `src-${version}`);
    mkdirSync(src);
    writeFileSync(join(src, 'server.mjs'), SERVER);
    writeFileSync(join(src, 'VERSION'), `${version}\n`);
    if (opts.slow) writeFileSync(join(src, 'SLOW'), '');
    const file = join(work, `${version}.tar.gz`);
    await create({ gzip: true, file, cwd: src, portable: true }, readdirSync(src));
    const body = readFileSync(file);
    const r = await fetch(`${cc.url}/api/v1/artifacts/corp.fault/${version}?sha256=${sha(body)}`, { method: 'PUT', body, headers: { authorization: `Bearer ${cc.token}`, 'content-type': 'application/octet-stream' } });
    assert.equal(r.status, 201, await r.text());
  }

  before(async () => {
    hosts = createTestHosts(3, 'dfault');
    cc = await startControlCenter({ host: hosts.gateway });
    const creds = await enrollHosts(cc, hosts.hosts);
    for (const h of hosts.hosts) agents.push(startAgent(h, cc.url, creds.get(h.hostname)!.token));
    await until('every agent connected', async () => {
      const r = await cc.call('GET', '/api/v1/agents');
      return hosts.hosts.every((h) => r.body.items.some((a: { hostname: string; state: string }) => a.hostname === h.hostname && a.state === 'connected'));
    }, 120_000);
    assert.ok((await cc.call('POST', '/api/v1/nodes', { parentPath: null, name: 'corp' })).status < 300);
    assert.ok((await cc.call('POST', '/api/v1/nodes', { parentPath: 'corp', name: 'fault' })).status < 300);
    for (const h of hosts.hosts) assert.ok((await cc.call('PUT', `/api/v1/nodes/corp.fault/machines/${h.hostname}`)).status < 300);
    const declared = await cc.call('PUT', '/api/v1/nodes/corp.fault/process', {
      argv: [process.execPath, 'server.mjs'],
      env: { PORT: String(PORT) },
      health: { type: 'http', port: PORT, path: '/', intervalSeconds: 0.2 },
      drainSeconds: 0,
      deployed: true,
    });
    assert.equal(declared.status, 201, JSON.stringify(declared.body));
    await push('1.0.0');
    await push('2.0.0');
    await push('3.0.0', { slow: true });
    await reaches(await deploy('1.0.0', { batch: 3 }), (d) => d.state === 'succeeded', 'succeeded');
  });
  after(async () => {
    try {
      await cc?.call('DELETE', '/api/v1/nodes/corp.fault/process');
      await until('apps stopped', async () => (await serving()).every((v) => v === 'down'), 30_000).catch(() => {});
    } finally {
      for (const a of agents) await a.stop();
      await cc?.stop();
      hosts?.close();
      rmSync(work, { recursive: true, force: true });
    }
  });

  test('kill -9 of the control center between batches: started again, it resumes where it was', async () => {
    const id = await deploy('2.0.0', { delaySeconds: 2 });
    await reaches(id, (d) => d.hosts.some((h) => h.state === 'updated'), 'one host updated');
    await cc.kill9();
    await cc.restart();
    const done = await reaches(id, (d) => d.state === 'succeeded' || d.state === 'paused', 'finished');
    assert.equal(done.state, 'succeeded', JSON.stringify(done));
    assert.deepEqual(await serving(), ['2.0.0', '2.0.0', '2.0.0']);
    for (const h of hosts.hosts) assert.equal(await switches(id, h.hostname), 1, `${h.hostname} switched once`);
  });

  test('kill -9 of an agent while its release starts: started again, it adopts the app and the deployment goes on', async () => {
    const id = await deploy('3.0.0', {});
    const starting = await reaches(id, (d) => d.hosts.some((h) => h.state === 'starting'), 'a host starting');
    const victim = agents.find((a) => a.host.hostname === starting.hosts.find((h) => h.state === 'starting')!.hostname)!;
    await victim.kill9();
    victim.restart();
    const done = await reaches(id, (d) => d.state === 'succeeded' || d.state === 'paused', 'finished');
    assert.equal(done.state, 'succeeded', JSON.stringify(done));
    assert.deepEqual(await serving(), ['3.0.0', '3.0.0', '3.0.0']);
    for (const h of hosts.hosts) assert.equal(await switches(id, h.hostname), 1, `${h.hostname} switched once`);
  });
});
