/**
 * One cached service: its last answer and the balancer over its instances. The balancer is rebuilt
 * only when what it balances changes (algorithm, or an instance's address, port or weight), so a
 * change to health text or metadata keeps wrr's smooth sequence where it was and a consistent-hash
 * ring is not rebuilt for nothing. `pick` is a Map lookup and the balancer's own pick.
 */
import { backendOf, createBalancer, type Answer, type Backend, type Balancer } from '@canopy/core';

/** One instance of an answer, as `pick` returns it. */
export type Instance = Answer['instances'][number];

export interface ServiceEntry {
  /** The last answer, or undefined when the path no longer leads to a service. */
  readonly answer: Answer | undefined;
  readonly balancer: Balancer | undefined;
  /** The balancer's backend objects → this answer's instances. */
  readonly instanceOf: Map<Backend, Instance>;
  /** What the balancer was built from. */
  readonly signature: string;
}

/** An entry for a path that leads to nothing (deleted, or no longer visible). */
export const MISSING: ServiceEntry = Object.freeze({ answer: undefined, balancer: undefined, instanceOf: new Map(), signature: '' });

/** Instances a balancer can take: an address, and one per `ip:port` (the backend id). */
function balanced(answer: Answer): { backend: Backend; instance: Instance }[] {
  const seen = new Set<string>();
  const out: { backend: Backend; instance: Instance }[] = [];
  for (const instance of answer.instances) {
    if (instance.ip === '') continue;
    const backend = backendOf(instance.ip, instance.port, instance.weight);
    if (seen.has(backend.id)) continue;
    seen.add(backend.id);
    out.push({ backend, instance });
  }
  return out;
}

/** The entry for `answer`, keeping `previous`'s balancer when it balances the same backends. */
export function entryFor(answer: Answer, previous: ServiceEntry | undefined): ServiceEntry {
  const list = balanced(answer);
  const signature = `${answer.policy.algorithm}|${list.map((x) => `${x.backend.id}=${x.backend.weight}`).join(',')}`;
  const balancer = previous?.balancer && previous.signature === signature ? previous.balancer : list.length ? createBalancer(answer.policy.algorithm, list.map((x) => x.backend)) : undefined;
  // The balancer keeps frozen copies of its backends, in the order given: map those objects.
  const byId = new Map(list.map((x) => [x.backend.id, x.instance]));
  const instanceOf = new Map<Backend, Instance>();
  for (const b of balancer?.backends ?? []) {
    const i = byId.get(b.id);
    if (i) instanceOf.set(b, i);
  }
  return { answer, balancer, instanceOf, signature };
}

/** The instance the service's policy picks for `key` (hashing algorithms), or undefined when none serves. */
export function pickFrom(entry: ServiceEntry, key?: string): Instance | undefined {
  const b = entry.balancer?.pick(key);
  return b === undefined ? undefined : entry.instanceOf.get(b);
}
