/** Load-balancing algorithms shared by the SDK, the CLI and nginx config generation. */

import { ValidationError } from '../errors.ts';
import { nginxServerAddress } from './backends.ts';
import { ConsistentHashBalancer } from './consistent-hash.ts';
import { PowerOfTwoChoicesBalancer } from './least-request.ts';
import { MaglevBalancer } from './maglev.ts';
import { RandomBalancer } from './random.ts';
import { LB_ALGORITHMS, type Backend, type BalancerFor, type BalancerOptions, type LbAlgorithm } from './types.ts';
import { WrrBalancer } from './wrr.ts';

export { LB_ALGORITHMS, MAX_WEIGHT } from './types.ts';
export type { Backend, Balancer, BalancerFor, BalancerOptions, LbAlgorithm, LeastRequestBalancer } from './types.ts';
export { nginxServerAddress, validateBackends } from './backends.ts';
export { crc32 } from './hash.ts';
export { WrrBalancer } from './wrr.ts';
export { CHASH_POINTS_PER_WEIGHT, ConsistentHashBalancer, splitServerText } from './consistent-hash.ts';
export { MAGLEV_SLOTS_PER_BACKEND, MaglevBalancer, maglevTableSize } from './maglev.ts';
export { RandomBalancer } from './random.ts';
export { PowerOfTwoChoicesBalancer } from './least-request.ts';

/** True when `s` names a known algorithm. */
export function isLbAlgorithm(s: string): s is LbAlgorithm {
  return (LB_ALGORITHMS as readonly string[]).includes(s);
}

/** Builds a balancer for `algorithm` over `backends`; throws ValidationError on bad backends or options. */
export function createBalancer<A extends LbAlgorithm>(
  algorithm: A,
  backends: readonly Backend[],
  opts: BalancerOptions = {},
): BalancerFor[A] {
  const build: { [K in LbAlgorithm]: () => BalancerFor[K] } = {
    wrr: () => new WrrBalancer(backends),
    consistent_hash: () => new ConsistentHashBalancer(backends),
    maglev: () => new MaglevBalancer(backends, opts.tableSize),
    random: () => new RandomBalancer(backends, opts.random),
    least_request: () => new PowerOfTwoChoicesBalancer(backends, opts.random),
  };
  if (!isLbAlgorithm(algorithm)) {
    throw new ValidationError(`unknown load-balancing algorithm '${String(algorithm)}'`, [
      { path: ['algorithm'], message: `must be one of ${LB_ALGORITHMS.join(', ')}` },
    ]);
  }
  return build[algorithm]();
}

/** A backend from host, port and weight, with the conventional `host:port` id. */
export function backendOf(host: string, port: number, weight = 1, down = false): Backend {
  const b: Backend = { id: nginxServerAddress({ host, port }), host, port, weight };
  if (down) b.down = true;
  return b;
}
