/**
 * Our balancers against a real nginx: for the same upstream, nginx's choice (read from the port the
 * backend echoes) must equal ours, key for key and request for request.
 */

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { backendOf, createBalancer, type Backend, type Balancer } from './index.ts';
import { findNginx, freePorts, startNginx, type RunningNginx, type UpstreamSpec } from './nginx-harness.test-util.ts';

const nginx = findNginx();
if (nginx === undefined) console.error('\n*** nginx not installed: skipping the live nginx comparison (apt-get install nginx) ***\n');

/** Keys as `$arg_key` sees them: raw query text, so only characters that need no escaping. */
const KEYS = Array.from({ length: 500 }, (_, i) => `k${i}-${(Math.imul(i + 1, 2654435761) >>> 0).toString(36)}`);

async function backends(weights: number[], down: number[] = []): Promise<Backend[]> {
  const ports = await freePorts(weights.length);
  return weights.map((w, i) => backendOf('127.0.0.1', ports[i]!, w, down.includes(i)));
}

/** What nginx answered (a port) mapped to the backend id, so a mismatch reads as two ids. */
function idOf(list: Backend[], port: string): string {
  return list.find((b) => String(b.port) === port)?.id ?? `unknown port ${port}`;
}

async function nginxSequence(run: RunningNginx, name: string, list: Backend[], queries: string[]): Promise<string[]> {
  const seen: string[] = [];
  for (const q of queries) seen.push(idOf(list, await run.get(`/${name}${q}`)));
  return seen;
}

function ourSequence(balancer: Balancer, keys: (string | undefined)[]): string[] {
  return keys.map((k) => balancer.pick(k)?.id ?? 'none');
}

describe('balancers match a live nginx', { skip: nginx === undefined ? 'nginx not installed: apt-get install nginx to run this comparison' : false }, () => {
  let run: RunningNginx | undefined;
  const ups: Record<string, UpstreamSpec> = {};

  before(async () => {
    const chash = 'hash $arg_key consistent';
    ups['chash'] = { name: 'chash', directives: [chash], backends: await backends([1, 2, 1, 3, 1, 1, 5, 1, 2, 1]) };
    // Two of eight down: keys landing on their points walk on to the next point.
    ups['chashdown'] = { name: 'chashdown', directives: [chash], backends: await backends([2, 1, 3, 1, 1, 2, 1, 1], [1, 5]) };
    // Heavy down servers: most walks exceed 20 points and nginx falls back to round robin.
    ups['chashrr'] = { name: 'chashrr', directives: [chash], backends: await backends([1, 20, 1, 20, 20, 2], [1, 3, 4]) };
    ups['wrr'] = { name: 'wrr', directives: [], backends: await backends([5, 1, 1]) };
    ups['wrrmix'] = { name: 'wrrmix', directives: [], backends: await backends([3, 7, 2, 5, 1, 4, 9], [2]) };
    run = await startNginx(nginx!, Object.values(ups));
  });

  after(async () => {
    await run?.stop();
  });

  for (const name of ['chash', 'chashdown', 'chashrr']) {
    test(`hash $arg_key consistent (${name}) picks the same backend for 500 keys`, async () => {
      const list = ups[name]!.backends;
      const ours = ourSequence(createBalancer('consistent_hash', list), KEYS);
      const theirs = await nginxSequence(run!, name, list, KEYS.map((k) => `?key=${k}`));
      assert.deepEqual(ours, theirs);
      assert.ok(new Set(theirs).size > 1, 'keys spread over several backends');
    });
  }

  test('consistent hash falls back to round robin for an empty key, as nginx', async () => {
    const list = ups['chash']!.backends;
    const keys = [undefined, 'a', undefined, undefined, 'b', undefined, undefined, undefined];
    const balancer = createBalancer('consistent_hash', list);
    // The 500-key test above did not touch nginx's round-robin state for this upstream.
    const ours = ourSequence(balancer, keys);
    const theirs = await nginxSequence(run!, 'chash', list, keys.map((k) => (k === undefined ? '' : `?key=${k}`)));
    assert.deepEqual(ours, theirs);
  });

  test('weights 5,1,1 give the same smooth round-robin sequence as nginx: a a b a c a a', async () => {
    const list = ups['wrr']!.backends;
    const ours = ourSequence(createBalancer('wrr', list), Array.from({ length: 21 }, () => undefined));
    const theirs = await nginxSequence(run!, 'wrr', list, Array.from({ length: 21 }, () => ''));
    assert.deepEqual(ours, theirs);
    const [a, b, c] = list.map((x) => x.id);
    assert.deepEqual(theirs.slice(0, 7), [a, a, b, a, c, a, a]);
  });

  test('mixed weights with a down server give the same round-robin sequence as nginx', async () => {
    const list = ups['wrrmix']!.backends;
    const n = 3 * (3 + 7 + 5 + 1 + 4 + 9) + 5;
    const ours = ourSequence(createBalancer('wrr', list), Array.from({ length: n }, () => undefined));
    const theirs = await nginxSequence(run!, 'wrrmix', list, Array.from({ length: n }, () => ''));
    assert.deepEqual(ours, theirs);
    assert.ok(!theirs.includes(list[2]!.id), 'the down server is never chosen');
  });
});
