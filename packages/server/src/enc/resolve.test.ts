import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { NotFoundError } from '@canopy/core';
import type { EffectiveConfig } from '@canopy/core';
import { chainFor, effectiveConfig, type AssociationRecord } from './effective.ts';
import { resolveEnc } from './resolve.ts';
import { renderExplain } from './render.ts';

// A small tree: corp sets base classes and shared parameters; web and db run different services.
const records: AssociationRecord[] = [
  { nodePath: 'corp', classes: { base: {} }, parameters: { ntp: 'pool.ntp.org', dns: ['10.0.0.1'] } },
  { nodePath: 'corp.web', classes: { base: {}, nginx: { worker_processes: 4 } }, parameters: { tier: 'front' } },
  { nodePath: 'corp.web.api' },
  { nodePath: 'corp.web.static', parameters: { tier: 'edge', ntp: 'pool.ntp.org' } },
  { nodePath: 'corp.db', classes: { base: {}, mysql: { version: '8.0' } }, environment: 'stable' },
];
const eff = (path: string): EffectiveConfig => effectiveConfig(chainFor(path, records));
const node = (path: string) => ({ path, effective: eff(path) });
const defaults = { classes: { base: { minimal: true } }, environment: 'production' };

describe('resolveEnc', () => {
  test('a machine in one node gets that node\'s classes, parameters and environment', () => {
    const r = resolveEnc({ hostname: 'api1.example.com', machine: { zone: 'east', idc: 'dc1' }, nodes: [node('corp.web.api')], defaults });
    assert.equal(r.source, 'tree');
    assert.equal(r.reason, 'single-node');
    assert.deepEqual(r.classes, { base: {}, nginx: { worker_processes: 4 } });
    assert.deepEqual(r.parameters, {
      canopy_node: 'corp.web.api',
      canopy_zone: 'east',
      canopy_idc: 'dc1',
      dns: ['10.0.0.1'],
      ntp: 'pool.ntp.org',
      tier: 'front',
    });
    assert.equal(r.environment, 'production');
    const nginx = r.explain.find((e) => e.subject === 'class' && e.name === 'nginx')!;
    assert.deepEqual(nginx.sources, [{ node: 'corp.web.api', setOn: 'corp.web' }]);
    const ntp = r.explain.find((e) => e.subject === 'parameter' && e.name === 'ntp')!;
    assert.deepEqual(ntp.sources, [{ node: 'corp.web.api', setOn: 'corp' }]);
  });

  test('a machine in two nodes with the same classes keeps them; parameters they disagree on are left out', () => {
    const r = resolveEnc({ hostname: 'web1', nodes: [node('corp.web.static'), node('corp.web.api')], defaults });
    assert.equal(r.reason, 'nodes-agree');
    assert.deepEqual(r.classes, { base: {}, nginx: { worker_processes: 4 } });
    assert.deepEqual(r.parameters, { canopy_node: ['corp.web.api', 'corp.web.static'], dns: ['10.0.0.1'], ntp: 'pool.ntp.org' });
    const tier = r.explain.find((e) => e.name === 'tier')!;
    assert.equal(tier.origin, 'dropped');
    assert.match(tier.message, /corp\.web\.api: "front"; corp\.web\.static: "edge"/);
  });

  test('a machine in two nodes with different classes gets the default classes and environment, and says why', () => {
    const r = resolveEnc({ hostname: 'mixed1', nodes: [node('corp.web.api'), node('corp.db')], defaults });
    assert.equal(r.reason, 'nodes-differ');
    assert.deepEqual(r.classes, { base: { minimal: true } });
    assert.equal(r.environment, 'production');
    assert.deepEqual(r.parameters, { canopy_node: ['corp.db', 'corp.web.api'], dns: ['10.0.0.1'], ntp: 'pool.ntp.org' });
    const decision = r.explain.find((e) => e.subject === 'decision')!;
    assert.match(decision.message, /classes differ: corp\.db: base, mysql; corp\.web\.api: base, nginx/);
    assert.equal(r.explain.find((e) => e.subject === 'class')!.origin, 'defaults');
  });

  test('the same class names with different parameters, or different environments, also disagree', () => {
    const a = { path: 'corp.a', effective: { ...eff('corp.web'), nodePath: 'corp.a', classes: { nginx: { worker_processes: 2 } } } };
    const b = { path: 'corp.b', effective: { ...eff('corp.web'), nodePath: 'corp.b', classes: { nginx: { worker_processes: 8 } } } };
    const byParams = resolveEnc({ hostname: 'h', nodes: [a, b], defaults });
    assert.equal(byParams.reason, 'nodes-differ');
    assert.match(byParams.explain[0]!.message, /parameters of nginx differ/);
    const c = { path: 'corp.c', effective: { ...a.effective, nodePath: 'corp.c', environment: 'canary' } };
    const byEnv = resolveEnc({ hostname: 'h', nodes: [a, c], defaults });
    assert.equal(byEnv.reason, 'nodes-differ');
    assert.match(byEnv.explain[0]!.message, /environments differ/);
  });

  test('a machine not in the tree uses the node its provisioning request names', () => {
    const r = resolveEnc({ hostname: 'new1', nodes: [], provisioning: { nodePath: 'corp.db', effective: eff('corp.db') }, defaults });
    assert.equal(r.source, 'provisioning');
    assert.equal(r.reason, 'provisioning');
    assert.deepEqual(r.classes, { base: {}, mysql: { version: '8.0' } });
    assert.equal(r.environment, 'stable');
    assert.equal(r.parameters['canopy_node'], 'corp.db');
  });

  test('the tree wins over a stale provisioning request', () => {
    const r = resolveEnc({ hostname: 'x', nodes: [node('corp.web')], provisioning: { nodePath: 'corp.db', effective: eff('corp.db') }, defaults });
    assert.equal(r.source, 'tree');
    assert.deepEqual(r.nodes, ['corp.web']);
  });

  test('a host neither the tree nor provisioning knows is a NotFoundError', () => {
    assert.throws(
      () => resolveEnc({ hostname: 'ghost.example.com', nodes: [], defaults }),
      (e: unknown) => e instanceof NotFoundError && /ghost\.example\.com/.test(e.message),
    );
  });

  test('the explain text names where every class and parameter came from', () => {
    const text = renderExplain(resolveEnc({ hostname: 'web1', nodes: [node('corp.web.static'), node('corp.web.api')], defaults }));
    assert.match(text, /^host web1: nodes-agree \(from the service tree\)$/m);
    assert.match(text, /^ {2}nginx {2}← set on corp\.web$/m);
    assert.match(text, /^ {6}worker_processes = 4$/m);
    assert.match(text, /^ {2}dns = \["10\.0\.0\.1"\] {2}← set on corp$/m);
    assert.match(text, /^ {2}ntp = "pool\.ntp\.org" {2}← set on corp, corp\.web\.static \(corp\.web\.api from corp; corp\.web\.static from corp\.web\.static\)$/m);
    assert.match(text, /^left out:\n {2}tier {2}← left out: the nodes disagree/m);
    assert.match(text, /^environment production {2}← no node sets one/m);
  });
});
