/** Tree fixtures every server test file needs: nodes created through the API, as admin. */
import assert from 'node:assert/strict';
import type { TestServer } from './server.ts';

/** Create each of `paths`, in order (parents first); each must be new. */
export async function createNodes(s: TestServer, ...paths: string[]): Promise<void> {
  for (const p of paths) {
    const i = p.lastIndexOf('.');
    const r = await s.call('POST', '/api/v1/nodes', { parentPath: i < 0 ? null : p.slice(0, i), name: p.slice(i + 1) });
    assert.equal(r.status, 201, `node ${p}: ${r.status} ${JSON.stringify(r.body)}`);
  }
}

/** Make sure `path` and its ancestors exist (those already there are left alone). */
export async function mkNodes(s: TestServer, path: string): Promise<void> {
  const parts = path.split('.');
  for (let i = 0; i < parts.length; i++) {
    const r = await s.call('POST', '/api/v1/nodes', { parentPath: i === 0 ? null : parts.slice(0, i).join('.'), name: parts[i] });
    assert.ok(r.status === 201 || r.status === 409, `node ${parts.slice(0, i + 1).join('.')}: ${r.status} ${JSON.stringify(r.body)}`);
  }
}
