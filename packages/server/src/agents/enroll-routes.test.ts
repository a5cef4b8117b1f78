/** Enrollment through the HTTP stack: an install request's token traded once for a machine credential. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'drizzle-orm';
import { mkNodes, startTestServer, testBackends, type TestServer } from '../testing/index.ts';

const facts = (over: Record<string, unknown> = {}) => ({
  hostname: 'whatever-the-os-says',
  ips: ['198.18.7.10', 'fe80::1', '2001:db8::7', 'not-an-ip'],
  cpus: 4,
  memoryBytes: 8 * 2 ** 30,
  disks: [{ mount: '/', sizeBytes: 100 * 2 ** 30 }],
  os: 'Debian GNU/Linux 13 (trixie)',
  kernel: '6.12.0',
  serial: 'SN-1234',
  macs: ['02:00:00:00:07:10'],
  bootId: null,
  bootedAt: null,
  ...over,
});

for (const backend of testBackends()) {
  describe(`agent enrollment (${backend.name})`, () => {
    let s: TestServer;
    before(async () => {
      s = await startTestServer(backend);
      await mkNodes(s, 'corp.enr.web');
    });
    after(() => s.close());

    const request = async (body: object) => {
      const r = await s.call('POST', '/api/v1/provisioning', { nodePath: 'corp.enr.web', enroll: true, ...body });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      return r.body as { id: number; enrollmentToken: string };
    };
    const enroll = (token: string, f: object = facts()) => s.call('POST', '/api/v1/agent/enroll', { token, facts: f }, { token: null });
    const count = async (table: 'machines' | 'machine_credentials') => {
      const r = await s.database.db.execute(sql.raw(`SELECT count(*)::int AS n FROM ${table}`));
      return (r as unknown as { rows: { n: number }[] }).rows[0]!.n;
    };

    test('a request asking to enroll answers its token once, prefixed and never shown again', async () => {
      const r = await request({ hostname: 'enr-once-1' });
      assert.match(r.enrollmentToken, /^cne_[A-Za-z0-9_-]{43}$/);
      const again = await s.call('GET', `/api/v1/provisioning/${r.id}`);
      assert.equal(again.body.enroll, true);
      assert.equal(again.body.enrollmentToken, undefined);
      assert.equal(JSON.stringify(again.body).includes(r.enrollmentToken), false);
      const plain = await s.call('POST', '/api/v1/provisioning', { hostname: 'enr-plain-1', nodePath: 'corp.enr.web' });
      assert.equal(plain.body.enroll, false);
      assert.equal(plain.body.enrollmentToken, undefined);
    });

    test('enrolling creates the machine from its facts, bound, placed and online, and fulfils the request', async () => {
      const r = await request({ hostname: 'enr-web-1', idc: 'dc1', zone: 'east' });
      const e = await enroll(r.enrollmentToken);
      assert.equal(e.status, 201, JSON.stringify(e.body));
      assert.equal(e.body.hostname, 'enr-web-1', "the request's hostname, not the OS's");
      assert.equal(e.body.nodePath, 'corp.enr.web');
      assert.match(e.body.token, /^cnm_/);
      const m = (await s.call('GET', '/api/v1/machines/enr-web-1')).body;
      assert.deepEqual(m.nodes, ['corp.enr.web']);
      assert.equal(m.status, 'online');
      assert.deepEqual([m.idc, m.zone], ['dc1', 'east']);
      assert.deepEqual(m.ips, ['198.18.7.10', '2001:db8::7'], 'link-local addresses and what is not an IP are dropped');
      assert.deepEqual([m.cpuCores, m.memoryMb, m.diskGb, m.serial, m.os], [4, 8192, 100, 'SN-1234', 'Debian GNU/Linux 13 (trixie)']);
      assert.equal(m.facts.kernel, '6.12.0');
      const req = (await s.call('GET', `/api/v1/provisioning/${r.id}`)).body;
      assert.equal(req.state, 'bound');
      assert.equal(req.machineId, m.id);
      assert.ok(req.enrolledAt);
      // The credential is a working machine credential.
      const principal = await s.services.agents.authenticate(e.body.token);
      assert.equal(principal?.actor.machineId, m.id);
      const audit = await s.call('GET', '/api/v1/audit?under=corp.enr.web&limit=200');
      const ops = audit.body.items.filter((i: { target: string }) => i.target === 'enr-web-1').map((i: { operation: string }) => i.operation);
      for (const op of ['agent.enroll', 'provisioning.bind', 'machine.create']) assert.ok(ops.includes(op), `${op} audited: ${ops}`);
      const bind = audit.body.items.find((i: { operation: string; target: string }) => i.operation === 'provisioning.bind' && i.target === 'enr-web-1');
      assert.equal(bind.after.via, 'enrollment-token');
      assert.equal(JSON.stringify(audit.body).includes(e.body.token), false, 'no secret in the audit');
    });

    test('a used token is refused with 401 and changes nothing', async () => {
      const r = await request({ hostname: 'enr-used-1' });
      assert.equal((await enroll(r.enrollmentToken)).status, 201);
      const before = [await count('machines'), await count('machine_credentials')];
      const again = await enroll(r.enrollmentToken);
      assert.equal(again.status, 401);
      assert.equal(again.body.code, 'unauthenticated');
      assert.match(again.body.detail, /already used/);
      assert.deepEqual([await count('machines'), await count('machine_credentials')], before);
    });

    test('an unknown token is refused with 401', async () => {
      for (const token of ['cne_nope', 'cnm_not-an-enrollment-token', 'x']) {
        const e = await enroll(token);
        assert.equal(e.status, 401, token);
        assert.match(e.body.detail, /unknown enrollment token/);
      }
    });

    test('an expired or cancelled request refuses its token and nothing is created', async () => {
      const stale = await request({ hostname: 'enr-stale-1' });
      await s.database.db.execute(sql`UPDATE provisioning_requests SET expires_at = now() - interval '1 minute' WHERE id = ${stale.id}`);
      const e = await enroll(stale.enrollmentToken);
      assert.equal(e.status, 401);
      assert.match(e.body.detail, /expired/);
      const gone = await request({ hostname: 'enr-cancel-1' });
      await s.call('DELETE', `/api/v1/provisioning/${gone.id}`);
      const c = await enroll(gone.enrollmentToken);
      assert.equal(c.status, 401);
      assert.match(c.body.detail, /cancelled/);
      for (const h of ['enr-stale-1', 'enr-cancel-1']) assert.equal((await s.call('GET', `/api/v1/machines/${h}`)).status, 404);
    });

    test('an existing machine the request cannot prove is refused with 409 saying why; the token stays usable', async () => {
      // Created by someone else, not bound by the request: an admin creates it on another node, and a
      // request by a user without machine.write there does not bind it (proof.ts).
      await mkNodes(s, 'corp.enr.other');
      assert.equal((await s.call('POST', '/api/v1/machines', { hostname: 'enr-taken-1', nodes: ['corp.enr.other'] })).status, 201);
      await s.call('POST', '/api/v1/users', { username: 'enrops', password: 'enrops-password-1' });
      assert.equal((await s.call('POST', '/api/v1/grants', { user: 'enrops', role: 'ops', nodePath: 'corp.enr.web' })).status, 201);
      const ops = await s.login('enrops', 'enrops-password-1');
      const r = await s.call('POST', '/api/v1/provisioning', { hostname: 'enr-taken-1', nodePath: 'corp.enr.web', enroll: true }, { token: ops });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      assert.equal(r.body.state, 'open');
      const e = await enroll(r.body.enrollmentToken);
      assert.equal(e.status, 409);
      assert.match(e.body.detail, /already exists.*no serial or MAC/);
      assert.deepEqual((await s.call('GET', '/api/v1/machines/enr-taken-1')).body.nodes, ['corp.enr.other']);
      assert.equal((await s.call('GET', `/api/v1/provisioning/${r.body.id}`)).body.enrolledAt, null);
    });

    test('an existing machine whose serial the request names is bound and set online', async () => {
      assert.equal((await s.call('POST', '/api/v1/machines', { hostname: 'enr-serial-1', status: 'installing' })).status, 201);
      const r = await request({ hostname: 'enr-serial-1', serial: 'SN-77' });
      const e = await enroll(r.enrollmentToken, facts({ serial: 'SN-77' }));
      assert.equal(e.status, 201, JSON.stringify(e.body));
      const m = (await s.call('GET', '/api/v1/machines/enr-serial-1')).body;
      assert.deepEqual(m.nodes, ['corp.enr.web']);
      assert.equal(m.status, 'online');
    });

    test('malformed facts are a 400 and spend nothing', async () => {
      const r = await request({ hostname: 'enr-bad-1' });
      const e = await enroll(r.enrollmentToken, { hostname: 'x' });
      assert.equal(e.status, 400);
      assert.equal((await enroll(r.enrollmentToken)).status, 201);
    });
  });
}
