import { test } from 'node:test';
import { startTestServer, testBackends } from '../testing/index.ts';
import { writeRoutes } from './route-table.ts';

test('probe', async () => {
  const s = await startTestServer(testBackends()[0]!);
  console.log(writeRoutes(s.app).map((r) => `${r.method} ${r.url}`).join('\n'));
  const show = async (m: string, u: string, b?: unknown, o?: any) => { const r = await s.call(m, u, b, o); console.log(m, u.slice(0, 60), r.status, r.headers['content-type'], JSON.stringify(r.body)?.slice(0, 200)); };
  await show('GET', '/api/v1/nodes/%ZZ');
  await show('GET', '/api/v1/nodes/' + 'a'.repeat(3000));
  await show('GET', '/api/v1/nodes/' + 'a'.repeat(120));
  await show('GET', '/api/v1/machines?q=%00');
  await show('POST', '/api/v1/nodes', { parentPath: null, name: 'nul', description: 'a\u0000b' });
  await show('POST', '/api/v1/nodes', { parentPath: null, name: 'sur', labels: { a: 'x\ud800' } });
  await show('POST', '/api/v1/nodes', { parentPath: null, name: 'sur3', labels: { a: 'x\ud83d\ude00' } });
  await show('POST', '/api/v1/machines', `{"hostname":"deep","facts":{"d":${'['.repeat(5000)}1${']'.repeat(5000)}}}`, { headers: { 'content-type': 'application/json' } });
  await show('POST', '/api/v1/machines/import', 'junk', { headers: { 'content-type': 'text/plain; charset=json' } });
  await show('POST', '/api/v1/machines/import', 'hostname\nx\u0000', { headers: { 'content-type': 'text/csv' } });
  await s.close();
});
