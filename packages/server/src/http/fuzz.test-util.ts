/** Arbitraries for fuzz.test.ts: URL parameters, bodies (valid-looking ones mutated, and junk). */
import fc from 'fast-check';

/** A body to send: nothing, raw text, or a value to send as JSON text. */
export type FuzzBody = undefined | string | { json: unknown };

/** Parameter values that name real fixtures (so requests get past lookups) or plausible misses. */
const KNOWN: Record<string, string[]> = {
  path: ['fz', 'fz.a', 'fz.b', 'fz.a.new', 'nope.nope'],
  hostname: ['fz-m1.example', 'nope.example'],
  id: ['1', '2', '3', '999999'],
  username: ['fz-user', 'nobody'],
  name: ['fz-group', 'nogroup'],
  domain: ['fz.example.com', 'nope.example.com'],
  port: ['8080', '1', '65535'],
  version: ['1', '2'],
};

const ODD_STRINGS = ['', ' ', '.', '..', 'a..b', '-a', 'A', '%', '%ZZ', '%00', '0', '-1', '1e3', '😀', '\u0000', '\ud800', 'null', "' OR 1=1 --", '${x}', '../../etc/passwd', 'a'.repeat(300), 'é'.repeat(100)];

const junk = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.constantFrom(...ODD_STRINGS),
);

/** Percent-encode, including lone surrogates (which encodeURIComponent throws on) as their WTF-8 bytes. */
function encode(v: string): string {
  try {
    return encodeURIComponent(v);
  } catch {
    return '%ED%A0%80';
  }
}

/** A URL parameter: a known value, or junk percent-encoded, or malformed encodings. */
export function paramArbitrary(name: string): fc.Arbitrary<string> {
  const known = KNOWN[name] ?? ['x'];
  return fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(...known) },
    { weight: 2, arbitrary: junk.map(encode) },
    { weight: 1, arbitrary: fc.constantFrom('%ZZ', '%', '%E0%A4%A', '%ED%A0%80', 'a%00b', 'x'.repeat(3000), 'UPPER', 'a.b.c.d.e.f') },
  );
}

/** Valid-looking bodies per route; mutated, they probe every field's validation. */
const TEMPLATES: Record<string, unknown> = {
  'POST /api/v1/nodes': { parentPath: 'fz', name: 'x', description: 'd', labels: { team: 'a' } },
  'PATCH /api/v1/nodes/:path': { description: 'd', labels: { a: 'b' } },
  'POST /api/v1/nodes/:path/move': { parentPath: 'fz.b' },
  'POST /api/v1/machines': { hostname: 'fzm.example', ips: ['10.0.0.1'], nodes: ['fz.a'], cpuCores: 4, facts: { a: 1 } },
  'POST /api/v1/machines/import': [{ hostname: 'fzi.example', nodes: ['fz.a'], status: 'online' }],
  'PATCH /api/v1/machines/:hostname': { os: 'x', labels: { a: 'b' }, status: 'online' },
  'POST /api/v1/provisioning': { hostname: 'fzp.example', nodePath: 'fz.a' },
  'POST /api/v1/users': { username: 'fzu', password: 'password-1', sshKeys: [] },
  'PATCH /api/v1/users/:username': { displayName: 'x' },
  'POST /api/v1/groups': { name: 'fzg', members: ['fz-user'] },
  'PUT /api/v1/groups/:name/members': { members: ['fz-user'] },
  'POST /api/v1/roles': { name: 'fzr', operations: ['tree.read'] },
  'PATCH /api/v1/roles/:name': { description: 'd', operations: ['tree.read'] },
  'POST /api/v1/grants': { user: 'fz-user', role: 'viewer', nodePath: 'fz.a' },
  'POST /api/v1/tokens': { name: 't', expiresInDays: 1 },
  'POST /api/v1/auth/login': { username: 'fz-user', password: 'password-1' },
  'PUT /api/v1/puppet/classes': ['base'],
  'PUT /api/v1/puppet/defaults': { classes: { base: {} } },
  'PUT /api/v1/nodes/:path/puppet': { classes: { base: {} } },
  'PUT /api/v1/services/:path': { ports: [{ name: 'http', port: 8080 }] },
  'PUT /api/v1/services/:path/instances/:hostname/:port': { ttlSeconds: null, weight: 1 },
  'PUT /api/v1/services/:path/instances/:hostname/:port/heartbeat': { status: 'pass' },
  'PUT /api/v1/services/:path/dependencies': { services: ['fz.a'] },
  'PUT /api/v1/aliases/:path': { target: 'fz.a' },
  'PUT /api/v1/domains/:domain': { ports: [{ port: 8080 }] },
  'POST /api/v1/domains/:domain/delegations': { uriPrefix: '/a/', node: 'fz.a' },
  'PUT /api/v1/nodes/:path/nginx': { domainUris: [{ domain: 'fz.example.com', uri: '/' }], port: 8080 },
  'PUT /api/v1/nginx/clusters/:path': { domains: ['fz.example.com'] },
  'POST /api/v1/nginx/clusters/:path/apply': { reason: 'x' },
  'POST /api/v1/nginx/clusters/:path/rollback': { version: 1 },
  'PUT /api/v1/nodes/:path/lvs': { virtualServices: [{ vip: '10.1.1.1', port: 80 }] },
  'PUT /api/v1/lvs/clusters/:path': { services: ['fz.a'] },
  'POST /api/v1/lvs/clusters/:path/apply': { reason: 'x' },
  'POST /api/v1/lvs/clusters/:path/rollback': { version: 1 },
};

const value: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 2, arbitrary: junk },
  { weight: 1, arbitrary: fc.constantFrom('x'.repeat(100_000), -1, 1e308, 2 ** 31, 0.5, true, null, [], {}, [[[[]]]]) },
);

/** Change one field of a template: drop it, replace it with anything, or add a stranger. */
function mutate(template: unknown): fc.Arbitrary<unknown> {
  if (Array.isArray(template)) return fc.array(mutate(template[0] ?? {}), { maxLength: 3 });
  if (template === null || typeof template !== 'object') return value;
  const keys = Object.keys(template);
  const base = template as Record<string, unknown>;
  return fc.oneof(
    { weight: 2, arbitrary: fc.constant(base) },
    { weight: 1, arbitrary: fc.constantFrom(...(keys.length ? keys : ['x'])).map((k) => Object.fromEntries(Object.entries(base).filter(([key]) => key !== k))) },
    { weight: 3, arbitrary: fc.tuple(fc.constantFrom(...(keys.length ? keys : ['x'])), value).map(([k, v]) => ({ ...base, [k]: v })) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom('extra', '__proto__x', 'constructor', 'id', 'version', 'superuser'), value).map(([k, v]) => ({ ...base, [k]: v })) },
  );
}

/** Bodies that every route must refuse before any work: 413 or 400. */
export const NASTY_BODIES: FuzzBody[] = [
  `{"description":"${'x'.repeat(11 * 1024 * 1024)}"}`,
  `${'['.repeat(200)}${']'.repeat(200)}`,
  `{"a":${'{"a":'.repeat(100)}1${'}'.repeat(100)}}`,
  '{"name":"a\\u0000b"}',
  '{"name":"\\ud800"}',
  '{"name":"\\udc00x"}',
  '{"__proto__":{"superuser":true}}',
  '{"constructor":{"prototype":{"superuser":true}}}',
  '{"name": ',
  'not json at all',
];

/** Anything a client might send to the route keyed `METHOD /pattern`. */
export function bodyArbitrary(key: string): fc.Arbitrary<FuzzBody> {
  const template = TEMPLATES[key] ?? {};
  return fc.oneof(
    { weight: 5, arbitrary: mutate(template).map((json) => ({ json })) },
    { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((json) => ({ json })) },
    { weight: 1, arbitrary: fc.constantFrom<FuzzBody>(undefined, '', 'hostname,nodes\nfzc.example,fz.a\n', '"unterminated,\n', ...NASTY_BODIES.slice(1)) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 50 }) },
  );
}
