/**
 * Test hosts: network namespaces on one bridge, so a suite can run agents, nginx and backends as
 * separate machines with their own addresses (198.18.N.0/24, the benchmarking range) and cut one
 * host's link. Each suite takes a free subnet number N through an atomic mkdir under
 * /tmp/canopy-test-hosts (reclaiming one whose owner died), and tears everything down in `close()`.
 *
 *   root namespace: bridge cnbN 198.18.N.1/24 ── veth cnvNhI ──▶ namespace canopy-N-I: eth0 198.18.N.(I+10)
 */
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const LOCK_DIR = '/tmp/canopy-test-hosts';
const MAX_SUBNETS = 250;

export interface TestHost {
  /** Index within the suite, from 0. */
  readonly index: number;
  /** The hostname its agent claims (the agent's `--hostname`). */
  readonly hostname: string;
  /** Its one address. */
  readonly address: string;
  /** Its network namespace. */
  readonly netns: string;
  /** Start a process on the host (argv array, no shell). */
  spawn(argv: string[], opts?: SpawnOptions): ChildProcess;
  /** Run a command on the host to its end. */
  run(argv: string[]): { status: number | null; stdout: string; stderr: string };
  /** Take the host's link down (the cable pulled), or bring it back. */
  setLink(up: boolean): void;
}

export interface TestHosts {
  readonly hosts: TestHost[];
  /** The root namespace's address on the hosts' bridge: where a control center listens for them. */
  readonly gateway: string;
  /** Delete every namespace and link, and free the subnet. */
  close(): void;
}

/** Whether this process can make test hosts (root, `ip netns` works). */
export function canMakeTestHosts(): string | undefined {
  if (process.getuid?.() !== 0) return 'test hosts need root (network namespaces)';
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' });
    return undefined;
  } catch (err) {
    return `ip netns does not work here: ${(err as Error).message}`;
  }
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function quietly(fn: () => void): void {
  try {
    fn();
  } catch {
    // Teardown of something already gone.
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function teardown(n: number, count: number): void {
  // The root-side veth first: deleting it is synchronous, while a namespace's links go with it only
  // when the kernel gets round to it, so a suite reusing the subnet at once could find them taken.
  for (let i = 0; i < count; i++) quietly(() => ip('link', 'delete', `cnv${n}h${i}`));
  for (let i = 0; i < count; i++) quietly(() => ip('netns', 'delete', `canopy-${n}-${i}`));
  quietly(() => ip('link', 'delete', `cnb${n}`));
}

/** Claim a subnet number: the first free one, or one whose owner process is gone. */
function claimSubnet(): number {
  mkdirSync(LOCK_DIR, { recursive: true });
  for (let n = 1; n <= MAX_SUBNETS; n++) {
    const dir = join(LOCK_DIR, String(n));
    try {
      mkdirSync(dir);
    } catch {
      let owner: { pid: number; count: number } | undefined;
      try {
        owner = JSON.parse(readFileSync(join(dir, 'owner'), 'utf8')) as { pid: number; count: number };
      } catch {
        continue; // being written by its new owner right now
      }
      if (alive(owner.pid)) continue;
      teardown(n, owner.count);
      rmSync(dir, { recursive: true, force: true });
      try {
        mkdirSync(dir);
      } catch {
        continue;
      }
    }
    return n;
  }
  throw new Error('no free test-host subnet');
}

/** Make `count` hosts named `${prefix}-${i}`, each in its own namespace on one bridge. */
export function createTestHosts(count: number, prefix = 'host'): TestHosts {
  const reason = canMakeTestHosts();
  if (reason) throw new Error(reason);
  if (count < 1 || count > 200) throw new RangeError('between 1 and 200 test hosts');
  const n = claimSubnet();
  writeFileSync(join(LOCK_DIR, String(n), 'owner'), JSON.stringify({ pid: process.pid, count }));
  const bridge = `cnb${n}`;
  const gateway = `198.18.${n}.1`;
  const hosts: TestHost[] = [];
  try {
    ip('link', 'add', bridge, 'type', 'bridge');
    ip('addr', 'add', `${gateway}/24`, 'dev', bridge);
    ip('link', 'set', bridge, 'up');
    for (let i = 0; i < count; i++) hosts.push(makeHost(n, i, `${prefix}-${i}`, bridge, gateway));
  } catch (err) {
    teardown(n, count);
    rmSync(join(LOCK_DIR, String(n)), { recursive: true, force: true });
    throw err;
  }
  let closed = false;
  return {
    hosts,
    gateway,
    close() {
      if (closed) return;
      closed = true;
      teardown(n, count);
      rmSync(join(LOCK_DIR, String(n)), { recursive: true, force: true });
    },
  };
}

function makeHost(n: number, i: number, hostname: string, bridge: string, gateway: string): TestHost {
  const netns = `canopy-${n}-${i}`;
  const outside = `cnv${n}h${i}`;
  const address = `198.18.${n}.${i + 10}`;
  ip('netns', 'add', netns);
  ip('link', 'add', outside, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns);
  ip('link', 'set', outside, 'master', bridge, 'up');
  ip('-n', netns, 'addr', 'add', `${address}/24`, 'dev', 'eth0');
  ip('-n', netns, 'link', 'set', 'lo', 'up');
  ip('-n', netns, 'link', 'set', 'eth0', 'up');
  ip('-n', netns, 'route', 'add', 'default', 'via', gateway);
  const wrap = (argv: string[]) => ['netns', 'exec', netns, ...argv];
  return {
    index: i,
    hostname,
    address,
    netns,
    // `ip netns exec` execs the command in place, so the child's pid is the command's own.
    spawn: (argv, opts = {}) => spawn('ip', wrap(argv), opts),
    run(argv) {
      try {
        const stdout = execFileSync('ip', wrap(argv), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
        return { status: 0, stdout, stderr: '' };
      } catch (err) {
        const e = err as { status: number | null; stdout?: string; stderr?: string };
        return { status: e.status, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
      }
    },
    setLink: (up) => ip('link', 'set', outside, up ? 'up' : 'down'),
  };
}
