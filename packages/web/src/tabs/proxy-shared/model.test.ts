import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { backendStandings, type InstanceView } from './model.ts';

describe('backend standings', () => {
  const inst = (id: number, over: Partial<InstanceView>): InstanceView => ({
    id, hostname: `h${id}`, ip: `10.0.0.${id}`, port: 8080, portName: 'http', weight: 1, zone: '', status: 'up', health: 'passing', bound: true, ttlSeconds: null, meta: {}, version: 1, updatedAt: '',
    ...over,
  });

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
});
