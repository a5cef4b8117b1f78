/**
 * The whole ENC with the real Puppet: a Canopy server on a loopback port, `canopy enc` (the
 * standalone entry) behind a wrapper script as `external_nodes`, and `puppet node find` /
 * `puppet apply` in a private directory. PGlite only, to keep the run short. Skips, loudly, when no
 * `puppet` binary is installed (Debian: puppet-agent).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, testBackends, type TestServer } from '../testing/index.ts';
import { prepareCodedir, puppetApply, puppetNodeFind, puppetVersion, type PuppetRunOptions } from './puppet-binary.ts';

const ROOT = join(import.meta.dirname, '../../../..');
const NODE = join(ROOT, 'node_modules/.bin/node');
const ENC_MAIN = join(ROOT, 'packages/cli/src/enc-main.ts');

const version = await puppetVersion();
if (version === null) console.warn('\n*** puppet not installed: skipping the Canopy + real Puppet ENC tests (apt-get install puppet-agent) ***\n');

describe(`Canopy as the ENC of the real Puppet ${version ?? ''}`, { skip: version === null ? 'puppet not installed (apt-get install puppet-agent)' : false }, () => {
  let s: TestServer;
  let dir = '';
  let enc = '';
  let opts: PuppetRunOptions;

  const api = async (method: string, url: string, body?: unknown) => {
    const r = await s.call(method, url, body);
    assert.ok(r.status < 300, `${method} ${url}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };

  async function module(name: string, body: string): Promise<void> {
    const manifests = join(dir, 'code', 'environments', 'production', 'modules', name, 'manifests');
    await mkdir(manifests, { recursive: true });
    await writeFile(join(manifests, 'init.pp'), body);
  }

  before(async () => {
    s = await startTestServer(testBackends()[0]!);
    await s.app.listen({ port: 0, host: '127.0.0.1' });
    const url = `http://127.0.0.1:${(s.app.server.address() as AddressInfo).port}`;
    const token = (await api('POST', '/api/v1/tokens', { name: 'puppet-server' })).token as string;
    assert.match(token, /^[A-Za-z0-9_-]+$/, 'the token is safe inside single quotes');

    dir = await mkdtemp(join(tmpdir(), 'canopy-enc-puppet-'));
    opts = { dir };
    await prepareCodedir(opts);
    await mkdir(join(dir, 'out'));
    // Each class writes a file named after the certname (facts come from the empty memory
    // terminus, so the certname setting is the way to know it), so a test sees which classes ran.
    const out = `${dir}/out/\${settings::certname}`;
    await module('canopy_base', `class canopy_base {\n  file { "${out}.base": ensure => file, content => "base zone=\${canopy_zone}\\n" }\n}\n`);
    await module('canopy_web', `class canopy_web(String $message = 'web') {\n  file { "${out}.web": ensure => file, content => "\${message} node=\${canopy_node} motd=\${motd}\\n" }\n}\n`);
    await module('canopy_db', `class canopy_db {\n  file { "${out}.db": ensure => file, content => "db node=\${canopy_node}\\n" }\n}\n`);

    enc = join(dir, 'canopy-enc');
    await writeFile(enc, `#!/bin/sh\nCANOPY_URL='${url}' CANOPY_TOKEN='${token}' CANOPY_CONFIG=/nonexistent exec '${NODE}' '${ENC_MAIN}' "$@"\n`);
    await chmod(enc, 0o755);

    const catalog = await s.call('PUT', '/api/v1/puppet/classes', 'canopy_base\ncanopy_web\ncanopy_db\n', { headers: { 'content-type': 'text/plain' } });
    assert.equal(catalog.status, 200, JSON.stringify(catalog.body));
    await api('PUT', '/api/v1/puppet/defaults', { classes: { canopy_base: {} } });
    await api('POST', '/api/v1/nodes', { parentPath: null, name: 'corp' });
    await api('POST', '/api/v1/nodes', { parentPath: 'corp', name: 'web' });
    await api('POST', '/api/v1/nodes', { parentPath: 'corp', name: 'db' });
    await api('PUT', '/api/v1/nodes/corp/puppet', { classes: { canopy_base: {} }, parameters: { motd: 'managed by "canopy": yes' } });
    await api('PUT', '/api/v1/nodes/corp.web/puppet', { classes: { canopy_base: {}, canopy_web: { message: 'hello web' } }, parameters: { tier: 'front' } });
    await api('PUT', '/api/v1/nodes/corp.db/puppet', { classes: { canopy_base: {}, canopy_db: {} } });
    await api('POST', '/api/v1/machines', { hostname: 'web1.corp.example', nodes: ['corp.web'], zone: 'east', idc: 'dc1' });
    await api('POST', '/api/v1/machines', { hostname: 'mixed1.corp.example', nodes: ['corp.web', 'corp.db'] });
    await api('POST', '/api/v1/provisioning', { hostname: 'new1.corp.example', nodePath: 'corp.db', zone: 'west', idc: 'dc2' });
  });

  after(async () => {
    await s?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('a machine in one node: Puppet gets the node\'s classes, parameters and environment', async (t) => {
    const run = await puppetNodeFind('web1.corp.example', enc, opts);
    t.diagnostic(`puppet node find took ${run.elapsedMs} ms`);
    assert.equal(run.exitCode, 0, run.stderr);
    assert.deepEqual(run.node!.classes, { canopy_base: {}, canopy_web: { message: 'hello web' } });
    assert.deepEqual(run.node!.parameters, { canopy_node: 'corp.web', canopy_zone: 'east', canopy_idc: 'dc1', motd: 'managed by "canopy": yes', tier: 'front' });
    assert.equal(run.node!.environment, 'production');
  });

  test('a machine in two nodes with different classes: Puppet gets the default classes', async () => {
    const run = await puppetNodeFind('mixed1.corp.example', enc, opts);
    assert.equal(run.exitCode, 0, run.stderr);
    assert.deepEqual(run.node!.classes, { canopy_base: {} });
    assert.deepEqual(run.node!.parameters['canopy_node'], ['corp.db', 'corp.web']);
    assert.equal(run.node!.parameters['tier'], undefined, 'a parameter the nodes disagree on is left out');
    assert.equal(run.node!.parameters['motd'], 'managed by "canopy": yes', 'one they agree on is kept');
  });

  test('a machine known only to the install system: Puppet gets the node the request named', async () => {
    const run = await puppetNodeFind('new1.corp.example', enc, opts);
    assert.equal(run.exitCode, 0, run.stderr);
    assert.deepEqual(run.node!.classes, { canopy_base: {}, canopy_db: {} });
    assert.deepEqual(run.node!.parameters, { canopy_node: 'corp.db', canopy_zone: 'west', canopy_idc: 'dc2', motd: 'managed by "canopy": yes' });
  });

  test('an unknown host: canopy enc exits 1 and Puppet fails', async () => {
    const run = await puppetNodeFind('ghost.corp.example', enc, opts);
    assert.notEqual(run.exitCode, 0);
    assert.equal(run.node, null);
    assert.match(run.stderr, /Failed to find ghost\.corp\.example via exec/);
  });

  test('values with quotes, newlines, ": " and a leading "!" reach Puppet unchanged', async () => {
    const parameters = { quote: 'say "hi" & \'bye\'', lines: 'one\ntwo\r\n', colon: 'key: value', bang: '!ruby/object:Foo', yes: 'yes', list: ['- a', '#b', 1.5, null, true], hash: { '<<': 'x', 'a: b': '*alias' } };
    await api('POST', '/api/v1/nodes', { parentPath: 'corp', name: 'vals' });
    await api('PUT', '/api/v1/nodes/corp.vals/puppet', { parameters });
    await api('POST', '/api/v1/machines', { hostname: 'vals1.corp.example', nodes: ['corp.vals'] });
    const run = await puppetNodeFind('vals1.corp.example', enc, { ...opts, env: { LANG: 'C', LC_ALL: 'C' } });
    assert.equal(run.exitCode, 0, run.stderr);
    for (const [k, v] of Object.entries(parameters)) assert.deepStrictEqual(run.node!.parameters[k], v, k);
  });

  test('puppet apply runs exactly the classes the ENC names, and refuses an unknown host', async () => {
    const one = await puppetApply('web1.corp.example', enc, opts);
    assert.ok(one.ok, `exit ${one.exitCode}: ${one.stderr}`);
    assert.equal(await readFile(join(dir, 'out', 'web1.corp.example.web'), 'utf8'), 'hello web node=corp.web motd=managed by "canopy": yes\n');
    assert.equal(await readFile(join(dir, 'out', 'web1.corp.example.base'), 'utf8'), 'base zone=east\n');

    const mixed = await puppetApply('mixed1.corp.example', enc, opts);
    assert.ok(mixed.ok, `exit ${mixed.exitCode}: ${mixed.stderr}`);
    assert.ok(existsSync(join(dir, 'out', 'mixed1.corp.example.base')));
    assert.ok(!existsSync(join(dir, 'out', 'mixed1.corp.example.web')), 'the default classes must not include a service\'s classes');
    assert.ok(!existsSync(join(dir, 'out', 'mixed1.corp.example.db')));

    const fresh = await puppetApply('new1.corp.example', enc, opts);
    assert.ok(fresh.ok, `exit ${fresh.exitCode}: ${fresh.stderr}`);
    assert.equal(await readFile(join(dir, 'out', 'new1.corp.example.db'), 'utf8'), 'db node=corp.db\n');

    const ghost = await puppetApply('ghost.corp.example', enc, opts);
    assert.ok(!ghost.ok);
    assert.match(ghost.stderr, /Failed to find ghost\.corp\.example via exec/);
  });

  test('once the installed machine appears, Puppet follows the tree', async () => {
    await api('POST', '/api/v1/machines', { hostname: 'new1.corp.example', zone: 'west' });
    await s.services.provisioning.settled();
    await api('PUT', '/api/v1/nodes/corp.db/puppet', { classes: { canopy_base: {}, canopy_db: {} }, parameters: { role: 'db' } });
    const run = await puppetNodeFind('new1.corp.example', enc, opts);
    assert.equal(run.exitCode, 0, run.stderr);
    assert.equal(run.node!.parameters['role'], 'db');
    const r = await s.call('GET', '/api/v1/enc/new1.corp.example?format=json');
    assert.equal(r.body.source, 'tree');
  });
});
