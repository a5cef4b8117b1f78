import { test } from 'node:test';
import { startTestServer, testBackends } from '../testing/index.ts';

for (const b of testBackends()) test('probe ' + b.name, async () => {
  const s = await startTestServer(b);
  const show = async (m: string, u: string, b?: unknown, o?: any) => { const r = await s.call(m, u, b, o); console.log(m, u, r.status, r.headers['content-type'], JSON.stringify(r.body)?.slice(0, 200)); return r; };
  await show('POST', '/api/v1/nodes', { parentPath: null, name: 'nul', description: 'a\u0000b' });
  await show('POST', '/api/v1/nodes', { parentPath: null, name: 'nul2', labels: { a: 'x\u0000' } });
  await show('POST', '/api/v1/nodes', { parentPath: null, name: 'sur', labels: { a: 'x\ud800' } });
  await show('POST', '/api/v1/nodes', { parentPath: null, name: 'sur2', description: 'x\ud800' });
  let deep: unknown = 1; for (let i = 0; i < 5000; i++) deep = [deep];
  await show('POST', '/api/v1/machines', { hostname: 'deep', facts: { d: deep } });
  let deep2: unknown = 1; for (let i = 0; i < 100000; i++) deep2 = { a: deep2 };
  await show('POST', '/api/v1/machines', { hostname: 'deep2', facts: { d: deep2 } });
  await show('POST', '/api/v1/machines', { hostname: 'nulf', facts: { 'k\u0000': 1 } });
  await show('POST', '/api/v1/machines/import', [{ hostname: 'imp1' }, { hostname: 'imp2', labels: { a: '\u0000' } }]);
  await show('POST', '/api/v1/users', { username: 'u1', displayName: 'a\u0000' });
  await show('POST', '/api/v1/tokens', { name: 'a\u0000' });
  const big = 'x'.repeat(11 * 1024 * 1024);
  const t = Date.now();
  await show('POST', '/api/v1/nodes', JSON.stringify({ parentPath: null, name: 'big', description: big }), { headers: { 'content-type': 'application/json' } });
  console.log('big ms', Date.now() - t);
  await s.close();
});
