import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Command, CommanderError } from 'commander';
import { ValidationError } from '@canopy/core';
import { parseServers, registerLb } from './lb.ts';

/** Runs `canopy lb …` in-process and returns what it printed. */
async function run(...args: string[]): Promise<string> {
  let out = '';
  const program = new Command('canopy').exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
  registerLb(program, (t) => (out += t)).exitOverride();
  await program.parseAsync(['lb', ...args], { from: 'user' });
  return out;
}

describe('parseServers', () => {
  test('reads host:port with optional weights, defaulting to 1', () => {
    assert.deepEqual(parseServers('10.0.0.1:80, web-1.example.com:8080=3,[::1]:81=2'), [
      { id: '10.0.0.1:80', host: '10.0.0.1', port: 80, weight: 1 },
      { id: 'web-1.example.com:8080', host: 'web-1.example.com', port: 8080, weight: 3 },
      { id: '[::1]:81', host: '::1', port: 81, weight: 2 },
    ]);
  });

  const bad: [string, RegExp][] = [
    ['10.0.0.1', /expected host:port/],
    ['10.0.0.1:0', /port must be from 1 to 65535/],
    ['10.0.0.1:70000', /port must be from 1 to 65535/],
    ['10.0.0.1:80=0', /weight must be an integer/],
    ['10.0.0.1:80=1.5', /expected host:port/],
    ['10.0.0.1:80=-2', /expected host:port/],
    ['10.0.0.1:80=5000', /weight must be an integer from 1 to 1000/],
    ['bad_host!:80', /not an IPv4 address, hostname or \[IPv6\]/],
    ['[zz::1]:80', /not an IPv4 address/],
    ['10.0.0.256:80', /not an IPv4 address/],
    ['10.0.0.1:80,10.0.0.1:80=2', /listed twice/],
    ['10.0.0.1:80,,10.0.0.2:80', /server '':/],
    ['', /expected host:port/],
  ];
  for (const [text, message] of bad) {
    test(`rejects ${JSON.stringify(text)} with a ValidationError naming the server`, () => {
      assert.throws(() => parseServers(text), (err: unknown) => {
        assert.ok(err instanceof ValidationError);
        assert.match(err.message, message);
        assert.equal(err.issues[0]?.path[0], 'servers');
        return true;
      });
    });
  }

  test('reports every bad entry, each at its position', () => {
    assert.throws(() => parseServers('a:1,b:0,c:2=0'), (err: unknown) => {
      assert.ok(err instanceof ValidationError);
      assert.deepEqual(err.issues.map((i) => i.path), [['servers', 1], ['servers', 2]]);
      return true;
    });
  });
});

describe('canopy lb', () => {
  test('wrr --count prints the nginx smooth round-robin sequence, one index and server per line', async () => {
    const out = await run('--algorithm', 'wrr', '--servers', 'a:80=5,b:80,c:80', '--count', '7');
    assert.equal(out, '1\ta:80\n2\ta:80\n3\tb:80\n4\ta:80\n5\tc:80\n6\ta:80\n7\ta:80\n');
  });

  test('consistent_hash --keys --json prints a {key, server} array that is stable across runs', async () => {
    const args = ['-a', 'consistent_hash', '-s', '10.0.0.1:80,10.0.0.2:80=2,10.0.0.3:80', '-k', 'u1,u2,u3,u1', '--json'];
    const picks = JSON.parse(await run(...args)) as { key: string; server: string }[];
    assert.deepEqual(picks.map((p) => p.key), ['u1', 'u2', 'u3', 'u1']);
    assert.equal(picks[0]!.server, picks[3]!.server);
    assert.ok(picks.every((p) => ['10.0.0.1:80', '10.0.0.2:80', '10.0.0.3:80'].includes(p.server)));
    assert.equal(await run(...args), JSON.stringify(picks) + '\n');
  });

  test('maglev --keys prints key<TAB>server lines', async () => {
    const out = await run('-a', 'maglev', '-s', 'x:1,y:2', '-k', 'alpha,beta');
    assert.match(out, /^alpha\t(x:1|y:2)\nbeta\t(x:1|y:2)\n$/);
  });

  test('random with --seed repeats its picks', async () => {
    const args = ['-a', 'random', '-s', 'x:1,y:2=3', '-n', '20', '--seed', '7'];
    assert.equal(await run(...args), await run(...args));
  });

  test('bad --servers surfaces as a ValidationError', async () => {
    await assert.rejects(run('-a', 'wrr', '-s', 'nope', '-n', '1'), ValidationError);
  });

  test('needs exactly one of --keys and --count', async () => {
    await assert.rejects(run('-a', 'wrr', '-s', 'a:1'), /exactly one of --keys and --count/);
    await assert.rejects(run('-a', 'wrr', '-s', 'a:1', '-n', '0'), /--count must be an integer from 1/);
    await assert.rejects(run('-a', 'wrr', '-s', 'a:1', '-n', '2', '-k', 'x'), CommanderError);
  });

  test('rejects an unknown algorithm and least_request', async () => {
    await assert.rejects(run('-a', 'ip_hash', '-s', 'a:1', '-n', '1'), CommanderError);
    await assert.rejects(run('-a', 'least_request', '-s', 'a:1', '-n', '1'), CommanderError);
  });
});
