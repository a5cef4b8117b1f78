import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { backendStandings, type InstanceView } from './model.ts';

describe('backend standings', () => {
  const inst = (id: number, over: Partial<InstanceView>): InstanceView => {
    const i = { id, hostname: `h${id}`, ip: `10.0.0.${id}`, port: 8080, portName: 'http', weight: 1, zone: '', status: 'up', health: 'passing', bound: true, ttlSeconds: null, meta: {}, version: 1, updatedAt: '', ...over } as const;
    return { serving: i.bound && i.status === 'up' && i.health !== 'critical', ...i };
  };

  test('mirror the renderers: weight when up, no traffic when draining/down/critical, absent otherwise', () => {
    const s = backendStandings(
      [inst(1, { weight: 5 }), inst(2, { status: 'draining' }), inst(3, { health: 'critical' }), inst(4, { port: 9090 }), inst(5, { bound: false }), inst(6, { ip: '10.0.0.1' })],
      8080,
    );
    assert.deepEqual(s.get(1), { state: 'serving', weight: 5 });
    assert.deepEqual(s.get(2), { state: 'off', why: 'draining' });
    assert.equal(s.get(3)?.state, 'off');
    assert.equal(s.get(4)?.state, 'absent');
    assert.equal(s.get(5)?.state, 'absent');
    assert.deepEqual(s.get(6), { state: 'absent', why: 'another instance already uses 10.0.0.1' });
  });

  test('a critical instance the protect threshold keeps serving is shown serving, as nginx and LVS route it', () => {
    const s = backendStandings([inst(1, { health: 'critical', serving: true })], 8080);
    assert.deepEqual(s.get(1), { state: 'serving', weight: 1 });
  });
});

describe('rollback and plan notes', () => {
  test('a rollback names every row it could not set back; a plan origin says whose change it is', async () => {
    const { originTitle, rollbackDivergence } = await import('./model.ts');
    const version = { version: 3, sha256: '', author: 'a', reason: 'r', rollbackOf: 1, createdAt: '', added: 0, removed: 0, contentPruned: false };
    const r = { cluster: 'c', published: true, version, diff: '', checkOutput: '', restored: { restored: ['cluster c'], notRestored: [{ target: 'service corp.pay.web', reason: 'needs nginx.write on corp.pay.web' }] } };
    assert.deepEqual(rollbackDivergence(r), ['service corp.pay.web: needs nginx.write on corp.pay.web']);
    assert.deepEqual(rollbackDivergence({ ...r, restored: undefined }), []);
    const o = { kind: 'service', target: 'corp.find.frontend', change: 'added', by: 'bob', at: '', diff: '', added: 1, removed: 0 } as const;
    assert.equal(originTitle(o), 'service corp.find.frontend added by bob');
  });
});
