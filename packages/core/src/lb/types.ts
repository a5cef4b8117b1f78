/** Shapes shared by every load-balancing algorithm. */

/** Every algorithm `createBalancer` knows, in the order the CLI and console list them. */
export const LB_ALGORITHMS = ['wrr', 'consistent_hash', 'maglev', 'random', 'least_request'] as const;

/** Name of a load-balancing algorithm. */
export type LbAlgorithm = (typeof LB_ALGORITHMS)[number];

/**
 * Nginx rejects weight 0; the ceiling keeps a consistent-hash ring (160 points per unit of weight)
 * within a few megabytes for a hundred backends.
 */
export const MAX_WEIGHT = 1000;

/** One machine serving a service. */
export interface Backend {
  /** Stable identity, usually `host:port`. Unique within one balancer. */
  id: string;
  host: string;
  port: number;
  /** Positive integer, as nginx's `weight=`. */
  weight: number;
  /** Kept in the list but never picked, as nginx's `down`. */
  down?: boolean;
}

/** Chooses a backend for a request. */
export interface Balancer {
  readonly algorithm: LbAlgorithm;
  /** The backends this balancer was built from, in the given order. */
  readonly backends: readonly Backend[];
  /** A backend that is not down, or undefined when none is available. `key` matters to hashing algorithms only. */
  pick(key?: string): Backend | undefined;
}

/** A balancer that tracks requests in flight; call `begin` when a request starts and `end` when it finishes. */
export interface LeastRequestBalancer extends Balancer {
  readonly algorithm: 'least_request';
  begin(backend: Backend): void;
  end(backend: Backend): void;
  /** Requests in flight on a backend (0 for an unknown one). */
  inFlight(backend: Backend): number;
}

/** Knobs some algorithms accept; the rest ignore them. */
export interface BalancerOptions {
  /** Uniform number in [0, 1); injected by tests for repeatable runs. Used by `random` and `least_request`. */
  random?: () => number;
  /** Maglev lookup-table size; must be a prime. Defaults to the smallest prime ≥ max(101, 100 × backends). */
  tableSize?: number;
}

/** The balancer type `createBalancer` returns for each algorithm. */
export interface BalancerFor {
  wrr: Balancer;
  consistent_hash: Balancer;
  maglev: Balancer;
  random: Balancer;
  least_request: LeastRequestBalancer;
}
