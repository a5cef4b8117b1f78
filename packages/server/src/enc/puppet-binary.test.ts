/**
 * The ENC against the real Puppet (Debian package `puppet-agent`, 7.x): Puppet's exec node
 * terminus runs a script that prints what `renderEncYaml` produced, exactly as it will run
 * `canopy enc`. Skips, loudly, when no `puppet` binary is installed.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import type { EncResult } from '@canopy/core';
import { encValueArb, TRICKY_STRINGS } from './arbitraries.ts';
import { chainFor, effectiveConfig, type AssociationRecord } from './effective.ts';
import { renderEncYaml, type EncDocument } from './render.ts';
import { resolveEnc } from './resolve.ts';
import { prepareCodedir, puppetApply, puppetNodeFind, puppetVersion, type PuppetRunOptions } from './puppet-binary.ts';

const version = await puppetVersion();
if (version === null) console.warn('\n*** puppet not installed: skipping the real-Puppet ENC tests (apt-get install puppet-agent) ***\n');

describe(`ENC with the real Puppet ${version ?? ''}`, { skip: version === null ? 'puppet not installed (apt-get install puppet-agent)' : false }, () => {
  let dir = '';
  let opts: PuppetRunOptions;
  let enc = '';

  // The stand-in for `canopy enc HOST`: prints the host's stored YAML, or fails like the real one.
  async function publish(host: string, doc: EncDocument): Promise<void> {
    await writeFile(join(dir, 'answers', `${host}.yaml`), renderEncYaml(doc));
  }

  const records: AssociationRecord[] = [
    { nodePath: 'corp', classes: { canopy_base: {} }, parameters: { motd: 'managed by "canopy": yes' } },
    { nodePath: 'corp.web', classes: { canopy_probe: {} }, parameters: { tier: 'front' } },
    { nodePath: 'corp.db', classes: { canopy_probe: { message: 'db' } }, environment: 'production' },
  ];
  const node = (path: string) => ({ path, effective: effectiveConfig(chainFor(path, records)) });
  const defaults = { classes: { canopy_base: {} }, environment: 'production' };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'canopy-puppet-'));
    opts = { dir };
    const codedir = await prepareCodedir(opts);
    const modules = join(codedir, 'environments', 'production', 'modules');
    await mkdir(join(modules, 'canopy_probe', 'manifests'), { recursive: true });
    await mkdir(join(modules, 'canopy_base', 'manifests'), { recursive: true });
    // Each class writes a file named after the certname, so a test sees which classes ran. Facts
    // come from the empty memory terminus, so $trusted['certname'] is blank: use the setting.
    await writeFile(
      join(modules, 'canopy_probe', 'manifests', 'init.pp'),
      `class canopy_probe(String $message = 'probe') {\n  file { "${dir}/out/\${settings::certname}.probe": ensure => file, content => "\${message} node=\${canopy_node} motd=\${motd}\\n" }\n}\n`,
    );
    await writeFile(
      join(modules, 'canopy_base', 'manifests', 'init.pp'),
      `class canopy_base {\n  file { "${dir}/out/\${settings::certname}.base": ensure => file, content => "base\\n" }\n}\n`,
    );
    await mkdir(join(dir, 'answers'));
    await mkdir(join(dir, 'out'));
    enc = join(dir, 'enc.sh');
    await writeFile(
      enc,
      `#!/bin/sh\nf="${dir}/answers/$1.yaml"\nif [ -f "$f" ]; then cat "$f"; else echo "canopy enc: machine '$1' not found" >&2; exit 1; fi\n`,
    );
    await chmod(enc, 0o755);
  });

  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function classify(result: EncResult) {
    await publish(result.hostname, result);
    const run = await puppetNodeFind(result.hostname, enc, opts);
    assert.equal(run.exitCode, 0, run.stderr);
    return run;
  }

  test('a machine in one node: Puppet classifies it with that node\'s classes and parameters', async (t) => {
    const result = resolveEnc({ hostname: 'web1.example.com', machine: { zone: 'east', idc: 'dc1' }, nodes: [node('corp.web')], defaults });
    const run = await classify(result);
    t.diagnostic(`puppet node find took ${run.elapsedMs} ms`);
    assert.deepEqual(run.node!.classes, { canopy_probe: {} });
    assert.deepEqual(run.node!.parameters, {
      canopy_node: 'corp.web',
      canopy_zone: 'east',
      canopy_idc: 'dc1',
      motd: 'managed by "canopy": yes',
      tier: 'front',
    });
    assert.equal(run.node!.environment, 'production');
  });

  test('a machine in two nodes with different classes: Puppet gets the default classes', async () => {
    const result = resolveEnc({ hostname: 'mixed1.example.com', nodes: [node('corp.web'), node('corp.db')], defaults });
    const run = await classify(result);
    assert.deepEqual(run.node!.classes, { canopy_base: {} });
    assert.deepEqual(run.node!.parameters['canopy_node'], ['corp.db', 'corp.web']);
    assert.equal(run.node!.parameters['tier'], undefined);
  });

  test('a machine known only to provisioning: Puppet gets the node the install request named', async () => {
    const result = resolveEnc({ hostname: 'new1.example.com', nodes: [], provisioning: { nodePath: 'corp.db', effective: node('corp.db').effective }, defaults });
    const run = await classify(result);
    assert.deepEqual(run.node!.classes, { canopy_probe: { message: 'db' } });
    assert.equal(run.node!.parameters['canopy_node'], 'corp.db');
  });

  test('an unknown host: the ENC exits 1 and Puppet fails, non-zero', async () => {
    const run = await puppetNodeFind('ghost.example.com', enc, opts);
    assert.notEqual(run.exitCode, 0);
    assert.equal(run.node, null);
    assert.match(run.stderr, /Failed to find ghost\.example\.com via exec/);
  });

  test('Puppet reads every rendered value back unchanged, even under LANG=C', async () => {
    const tricky = Object.fromEntries(TRICKY_STRINGS.map((s, i) => [`t${i}`, s]));
    const keys = Object.fromEntries(TRICKY_STRINGS.map((s, i) => [s, i]));
    await fc.assert(
      fc.asyncProperty(fc.array(encValueArb, { minLength: 10, maxLength: 30 }), async (values) => {
        const merge = { '<<': { a: 1 }, b: { '<<': [{ c: 2 }] } };
        const parameters = { ...tricky, keys, merge, ...Object.fromEntries(values.map((v, i) => [`v${i}`, v])) };
        await publish('values.example.com', { classes: { canopy_probe: { message: 'x' } }, parameters, environment: 'production' });
        const run = await puppetNodeFind('values.example.com', enc, { ...opts, env: { LANG: 'C', LC_ALL: 'C' } });
        assert.equal(run.exitCode, 0, run.stderr);
        assert.deepStrictEqual(run.node!.parameters, parameters);
      }),
      { numRuns: 3 },
    );
  });

  test('puppet apply compiles the classes the ENC names and applies them', async () => {
    const one = resolveEnc({ hostname: 'web2.example.com', nodes: [node('corp.web')], defaults });
    await publish(one.hostname, one);
    const run = await puppetApply(one.hostname, enc, opts);
    assert.ok(run.ok, `exit ${run.exitCode}: ${run.stderr}`);
    assert.equal(await readFile(join(dir, 'out', 'web2.example.com.probe'), 'utf8'), 'probe node=corp.web motd=managed by "canopy": yes\n');

    const mixed = resolveEnc({ hostname: 'mixed2.example.com', nodes: [node('corp.web'), node('corp.db')], defaults });
    await publish(mixed.hostname, mixed);
    const run2 = await puppetApply(mixed.hostname, enc, opts);
    assert.ok(run2.ok, `exit ${run2.exitCode}: ${run2.stderr}`);
    assert.equal(await readFile(join(dir, 'out', 'mixed2.example.com.base'), 'utf8'), 'base\n');
    assert.ok(!existsSync(join(dir, 'out', 'mixed2.example.com.probe')), 'the default classes must not include the service classes');
  });

  test('puppet apply refuses to run for a host the ENC does not know', async () => {
    const run = await puppetApply('ghost.example.com', enc, opts);
    assert.ok(!run.ok);
    assert.equal(run.exitCode, 1);
    assert.match(run.stderr, /Failed to find ghost\.example\.com via exec/);
  });
});
