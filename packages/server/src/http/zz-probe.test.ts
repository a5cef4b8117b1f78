import { test } from 'node:test';
import { startTestServer, testBackends } from '../testing/index.ts';

for (const b of testBackends()) test('probe ' + b.name, async () => {
  const s = await startTestServer(b);
  const show = async (m: string, u: string, b?: unknown, o?: any) => { try { const r = await s.call(m, u, b, o); console.log(m, u, r.status, r.headers['content-type'], JSON.stringify(r.body)?.slice(0, 200)); return r; } catch (e) { console.log('THROW', m, u, String(e).slice(0, 200)); } };
  const deepStr = (n: number, open: string, close: string) => open.repeat(n) + '1' + close.repeat(n);
  await show('POST', '/api/v1/machines', `{"hostname":"deep","facts":{"d":${deepStr(5000, '[', ']')}}}`, { headers: { 'content-type': 'application/json' } });
  await show('POST', '/api/v1/machines', `{"hostname":"deep1","facts":{"d":${deepStr(500, '[', ']')}}}`, { headers: { 'content-type': 'application/json' } });
  await show('POST', '/api/v1/machines', `{"hostname":"deep2","facts":{"d":${deepStr(100000, '{"a":', '}')}}}`, { headers: { 'content-type': 'application/json' } });
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
