/**
 * The routes an app serves, read back from Fastify's own route tree, so tests can cover every
 * route registered (including ones added later) instead of a hand-kept list that drifts.
 */
import type { FastifyInstance, HTTPMethods } from 'fastify';

export interface RouteEntry {
  method: string;
  /** The pattern as registered, e.g. `/api/v1/nodes/:path/move`. */
  url: string;
}

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const LINE = /^((?:[│ ] {3})*)[├└]── (\S+)(?: \(([A-Z, ]+)\))?$/u;

/** Every (method, pattern) the app answers, from `printRoutes`; each is checked back with `hasRoute`. */
export function routeTable(app: FastifyInstance): RouteEntry[] {
  const segments: string[] = [];
  const out: RouteEntry[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    if (line.trim() === '') continue;
    const m = LINE.exec(line);
    if (!m) throw new Error(`cannot read route tree line: ${JSON.stringify(line)}`);
    const depth = (m[1] ?? '').length / 4;
    segments.length = depth;
    segments.push(m[2] ?? '');
    const url = segments.join('');
    for (const method of (m[3] ?? '').split(',').map((x) => x.trim()).filter(Boolean)) {
      // A misread tree would silently shrink coverage; refuse to guess instead.
      if (!app.hasRoute({ method: method as HTTPMethods, url })) throw new Error(`route tree says ${method} ${url}, but the app has no such route`);
      out.push({ method, url });
    }
  }
  return out;
}

/** The routes that may change state: POST, PUT, PATCH and DELETE. */
export function writeRoutes(app: FastifyInstance): RouteEntry[] {
  return routeTable(app).filter((r) => WRITE_METHODS.has(r.method));
}
