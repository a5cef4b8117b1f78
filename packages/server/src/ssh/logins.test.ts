/** Logins pushed by an agent over its real session (WebSocket): validated, stored once, break-glass audited; and the `ssh` document it holds. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import { AGENT_PROTOCOL, AGENT_SESSION_PATH, type ControlMessage } from '@canopy/core';
import { mkNodes, startTestServer, testBackends, type TestServer } from '../testing/index.ts';

const event = (id: string, extra: Record<string, unknown> = {}) => ({
  id, at: new Date().toISOString(), account: 'lg-dev', from: '198.51.100.9', result: 'accepted', method: 'key', fingerprint: 'SHA256:x', user: 'lg-dev', breakGlassNode: null, reason: '', ...extra,
});

for (const backend of testBackends()) {
  describe(`SSH logins from an agent session (${backend.name})`, () => {
    let s: TestServer;
    let ws: WebSocket;
    const docs: unknown[] = [];
    const acks = new Map<number, string | undefined>();
    let seq = 0;
    const push = async (stream: string, data: unknown): Promise<string | undefined> => {
      const n = ++seq;
      ws.send(JSON.stringify({ t: 'push', seq: n, stream, data }));
      for (let i = 0; i < 400 && !acks.has(n); i++) await new Promise((r) => setTimeout(r, 25));
      assert.ok(acks.has(n), 'the push was acknowledged');
      return acks.get(n);
    };

    before(async () => {
      s = await startTestServer(backend, { ssh: { alarm: () => {} } });
      await s.app.listen({ host: '127.0.0.1', port: 0 });
      await mkNodes(s, 'lg.web');
      assert.equal((await s.call('POST', '/api/v1/machines', { hostname: 'lg-web-1', ips: ['198.51.100.30'], nodes: ['lg.web'] })).status, 201);
      const token = (await s.call('POST', '/api/v1/machines/lg-web-1/credentials', { name: 'agent' })).body.token as string;
      ws = new WebSocket(`ws://127.0.0.1:${(s.app.server.address() as AddressInfo).port}${AGENT_SESSION_PATH}`, { headers: { authorization: `Bearer ${token}` } });
      ws.on('message', (d) => {
        const m = JSON.parse(String(d)) as ControlMessage;
        if (m.t === 'doc' && m.name === 'ssh') docs.push(m.data);
        if (m.t === 'pushed') acks.set(m.seq, m.error);
      });
      await new Promise((r) => ws.once('open', r));
      ws.send(JSON.stringify({ t: 'hello', protocol: AGENT_PROTOCOL, agentVersion: 'test', facts: { hostname: 'lg-web-1', ips: [], cpus: 1, memoryBytes: 1, disks: [], os: 'test', kernel: 'test', serial: null, macs: [], bootId: null, bootedAt: null }, tasks: [] }));
      for (let i = 0; i < 400 && docs.length === 0; i++) await new Promise((r) => setTimeout(r, 25));
    });
    after(async () => {
      ws?.terminate();
      await s.close();
    });

    test('the agent gets its document after the welcome, and again when a grant changes it', async () => {
      assert.equal(docs.length, 1);
      assert.deepEqual((docs[0] as { accounts: unknown[] }).accounts, []);
      assert.equal((await s.call('POST', '/api/v1/users', { username: 'lg-dev', sshKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIdk3P7S9B6N+L7Zs8z+wVHewErSywaRPhR0l/poVsHJ'] })).status, 201);
      assert.equal((await s.call('POST', '/api/v1/grants', { user: 'lg-dev', role: 'developer', nodePath: 'lg' })).status, 201);
      for (let i = 0; i < 400 && docs.length < 2; i++) await new Promise((r) => setTimeout(r, 25));
      assert.deepEqual((docs.at(-1) as { accounts: { name: string }[] }).accounts.map((a) => a.name), ['lg-dev']);
    });

    test('a resent batch is stored once; a malformed one is refused and stores nothing', async () => {
      assert.equal(await push('ssh.logins', { events: [event('evt-00000001'), event('evt-00000002', { result: 'refused', reason: 'key not allowed' })] }), undefined);
      assert.equal(await push('ssh.logins', { events: [event('evt-00000001')] }), undefined);
      const refused = await push('ssh.logins', { events: [event('evt-00000003', { account: 'x'.repeat(500) })] });
      assert.match(refused ?? '', /bad ssh\.logins push/);
      const items = (await s.call('GET', '/api/v1/ssh/logins?under=lg')).body.items as { result: string; hostname: string }[];
      assert.deepEqual(items.map((e) => e.result).sort(), ['accepted', 'refused']);
      assert.ok(items.every((e) => e.hostname === 'lg-web-1'));
      assert.equal((await s.call('GET', '/api/v1/ssh/logins?under=lg&result=refused')).body.items.length, 1);
    });

    test('a break-glass login is audited on its node', async () => {
      assert.equal(await push('ssh.logins', { events: [event('evt-glass-01', { account: 'root', method: 'break-glass', user: null, breakGlassNode: 'lg' })] }), undefined);
      const audit = (await s.call('GET', '/api/v1/audit?under=lg&operation=ssh.break_glass.used')).body.items as { target: string; nodePath: string }[];
      assert.deepEqual(audit.map((a) => [a.target, a.nodePath]), [['lg-web-1', 'lg']]);
    });

    test('host keys pushed come back certified by the host CA in the document', async () => {
      assert.equal(await push('ssh.hostkeys', { keys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIdk3P7S9B6N+L7Zs8z+wVHewErSywaRPhR0l/poVsHJ'] }), undefined);
      for (let i = 0; i < 400 && (docs.at(-1) as { hostCertificates: string[] }).hostCertificates.length === 0; i++) await new Promise((r) => setTimeout(r, 25));
      assert.match((docs.at(-1) as { hostCertificates: string[] }).hostCertificates[0] ?? '', /^ssh-ed25519-cert-v01@openssh\.com \S+ lg-web-1$/);
      assert.match(await push('ssh.hostkeys', { keys: ['not a key'] }) ?? '', /bad ssh\.hostkeys push/);
    });
  });
}
