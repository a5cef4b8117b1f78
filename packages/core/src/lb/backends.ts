/** Checks and formats shared by the balancers. */

import { ValidationError, type FieldIssue } from '../errors.ts';
import { MAX_WEIGHT, type Backend } from './types.ts';

/** Throws a ValidationError listing every backend with a bad weight, port or duplicate id. */
export function validateBackends(backends: readonly Backend[]): void {
  const issues: FieldIssue[] = [];
  const seen = new Set<string>();
  backends.forEach((b, i) => {
    if (!Number.isInteger(b.weight) || b.weight < 1 || b.weight > MAX_WEIGHT) {
      issues.push({ path: ['backends', i, 'weight'], message: `weight must be an integer from 1 to ${MAX_WEIGHT}` });
    }
    if (!Number.isInteger(b.port) || b.port < 1 || b.port > 65535) {
      issues.push({ path: ['backends', i, 'port'], message: 'port must be an integer from 1 to 65535' });
    }
    if (b.host.length === 0) issues.push({ path: ['backends', i, 'host'], message: 'host must not be empty' });
    if (seen.has(b.id)) issues.push({ path: ['backends', i, 'id'], message: `duplicate backend id '${b.id}'` });
    seen.add(b.id);
  });
  if (issues.length > 0) throw new ValidationError('invalid backends', issues);
}

/**
 * The address as nginx's `server` directive should carry it (`10.0.0.1:80`, `[::1]:80`). The
 * consistent-hash ring hashes exactly this text, so the nginx config generator must write it too.
 */
export function nginxServerAddress(b: Pick<Backend, 'host' | 'port'>): string {
  const host = b.host.includes(':') && !b.host.startsWith('[') ? `[${b.host}]` : b.host;
  return `${host}:${b.port}`;
}

/** Indices of the backends that are not down. */
export function upIndices(backends: readonly Backend[]): number[] {
  const up: number[] = [];
  backends.forEach((b, i) => {
    if (b.down !== true) up.push(i);
  });
  return up;
}

/** A frozen copy, so a caller mutating its array later cannot change a built balancer. */
export function freezeBackends(backends: readonly Backend[]): readonly Backend[] {
  return Object.freeze(backends.map((b) => Object.freeze({ ...b })));
}
