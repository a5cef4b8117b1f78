/** The install routes alone: the script carries the configured public URL and the digests of what is served. */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { installRoutes } from './install-routes.ts';

const dir = mkdtempSync(join(tmpdir(), 'install-routes-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

test('the script carries CANOPY_PUBLIC_URL and the SHA-256s of the bundle and runtime it serves', async () => {
  // A stand-in runtime: the route serves whatever binary it is given (the server's own by default).
  const runtime = join(dir, 'node');
  writeFileSync(runtime, 'not really node\n');
  const app = Fastify();
  await app.register(installRoutes({ publicUrl: 'https://canopy.example.com:7443', nodePath: runtime }));
  try {
    const script = await app.inject({ method: 'GET', url: '/agent/install.sh', headers: { host: 'ignored.example:1' } });
    assert.equal(script.statusCode, 200);
    assert.match(script.headers['content-type'] as string, /shellscript/);
    assert.match(script.body, /^CANOPY_URL='https:\/\/canopy\.example\.com:7443'$/m);

    const bundle = await app.inject({ method: 'GET', url: '/agent/canopy-agent.mjs' });
    assert.equal(bundle.statusCode, 200);
    assert.match(bundle.body, /canopy-agent/);
    assert.equal(bundle.headers['x-checksum-sha256'], sha256(bundle.rawPayload));
    assert.match(script.body, new RegExp(`^BUNDLE_SHA256='${sha256(bundle.rawPayload)}'$`, 'm'));

    const node = await app.inject({ method: 'GET', url: '/agent/node' });
    assert.equal(node.body, 'not really node\n');
    assert.match(script.body, new RegExp(`^NODE_SHA256='${sha256('not really node\n')}'$`, 'm'));
  } finally {
    await app.close();
  }
});
