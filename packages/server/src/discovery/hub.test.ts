import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHub } from './hub.ts';
import { emptyEffect, type Effect } from './records.ts';
import type { Resolution } from './registry.ts';

/** A fixed world: path → service id, with `alias` following one hop. */
function world(map: Record<string, number | undefined>, aliases: Record<string, string> = {}) {
  return (path: string): Resolution => {
    const via = aliases[path];
    if (via) return { nodeId: map[via], chain: [path], aliasIndex: 0 };
    return { nodeId: map[path], chain: [], aliasIndex: 0 };
  };
}
const touching = (...ids: number[]): Effect => ({ ...emptyEffect(), nodeIds: new Set(ids) });

describe('watch hub', () => {
  test('tells each watcher only about its own services, in order', () => {
    const hub = createHub(world({ 'a.x': 1, 'a.y': 2 }), { ringSize: 16 });
    const seen: string[] = [];
    hub.watch(['a.x', 'a.y'], (rev, paths) => seen.push(`${rev}:${[...paths].sort().join('+')}`));
    hub.publish(5, touching(1));
    hub.publish(6, touching(3));
    hub.publish(7, touching(2, 1));
    assert.deepEqual(seen, ['5:a.x', '7:a.x+a.y']);
  });

  test('a reroute re-indexes watchers: an alias switch reaches the alias watcher once', () => {
    const map = { 'svc.blue': 1, 'svc.green': 2 };
    const aliases: Record<string, string> = { 'svc.live': 'svc.blue' };
    const hub = createHub(world(map, aliases), { ringSize: 16 });
    const seen: number[] = [];
    hub.watch(['svc.live'], (rev) => seen.push(rev));
    aliases['svc.live'] = 'svc.green';
    hub.publish(10, { ...emptyEffect(), aliasPaths: new Set(['svc.live']), reroute: true });
    hub.publish(11, touching(1));
    hub.publish(12, touching(2));
    assert.deepEqual(seen, [10, 12], 'blue no longer concerns it, green does');
  });

  test('resumption replays each changed path once at its last change, or gives up past the ring', () => {
    const hub = createHub(world({ 'a.x': 1, 'a.y': 2 }), { ringSize: 3 });
    hub.reset(100);
    hub.publish(101, touching(1));
    hub.publish(102, touching(2));
    hub.publish(103, touching(1));
    assert.deepEqual(hub.changedSince(['a.x', 'a.y'], 100), [[102, ['a.y']], [103, ['a.x']]]);
    assert.deepEqual(hub.changedSince(['a.x', 'a.y'], 102), [[103, ['a.x']]]);
    assert.deepEqual(hub.changedSince(['a.x'], 103), []);
    hub.publish(104, touching(2));
    assert.equal(hub.floor(), 101);
    assert.equal(hub.changedSince(['a.x'], 100), undefined, 'revision 101 has left the ring');
    assert.deepEqual(hub.changedSince(['a.x', 'a.y'], 101), [[103, ['a.x']], [104, ['a.y']]]);
  });

  test('stops calling a watcher once it unwatches', () => {
    const hub = createHub(world({ 'a.x': 1 }), { ringSize: 4 });
    let calls = 0;
    const stop = hub.watch(['a.x'], () => calls++);
    hub.publish(1, touching(1));
    stop();
    hub.publish(2, touching(1));
    assert.equal(calls, 1);
    assert.equal(hub.watchers(), 0);
  });
});
