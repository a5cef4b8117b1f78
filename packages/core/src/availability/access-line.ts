/**
 * One line of the generated JSON access log (`canopy_json`, server/src/nginx/render.ts) and the
 * upstream attempts it lists. nginx writes `$upstream_addr`, `$upstream_status` and
 * `$upstream_response_time` as lists: attempts within one upstream group are `, `-separated, and
 * ` : ` separates groups (an internal redirect to another upstream).
 */

/** One try of one backend for a request. */
export interface UpstreamAttempt {
  /** `ip:port` (or `unix:/path`); a bare upstream name when nginx found no live server. */
  addr: string;
  /** The backend's status; 502/504 when it could not be reached or timed out; 0 when nginx wrote `-`. */
  status: number;
  /** Seconds the backend took, NaN when unknown. */
  seconds: number;
}

/** The fields of a line that availability counts. */
export interface AccessLine {
  host: string;
  uri: string;
  status: number;
  /** $request_time, seconds. */
  seconds: number;
  /** $proxy_host: the upstream name, '' when the request was not proxied. */
  upstream: string;
  attempts: UpstreamAttempt[];
}

function split(list: string): string[] {
  if (list === '' || list === '-') return [];
  return list.split(/, | : /);
}

/** The attempts a line records; lists of unequal length are zipped as far as the addresses go. */
export function parseAttempts(addrs: string, statuses: string, times: string): UpstreamAttempt[] {
  const a = split(addrs);
  if (a.length === 0) return [];
  const s = split(statuses);
  const t = split(times);
  const out: UpstreamAttempt[] = [];
  for (let i = 0; i < a.length; i++) {
    const status = Number(s[i]);
    const seconds = Number(t[i]);
    out.push({ addr: a[i]!, status: Number.isInteger(status) ? status : 0, seconds: Number.isFinite(seconds) ? seconds : Number.NaN });
  }
  return out;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');

/** Parse one log line; undefined when it is not a canopy_json line (another format, a torn write). */
export function parseAccessLine(line: string): AccessLine | undefined {
  if (line.length < 2 || line.charCodeAt(0) !== 123 /* { */) return undefined;
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (typeof o !== 'object' || o === null) return undefined;
  const status = o['status'];
  if (typeof status !== 'number' || !Number.isInteger(status)) return undefined;
  const seconds = typeof o['request_time'] === 'number' ? (o['request_time'] as number) : Number(o['request_time']);
  return {
    host: str(o['host']).toLowerCase(),
    uri: str(o['uri']),
    status,
    seconds: Number.isFinite(seconds) ? seconds : Number.NaN,
    upstream: str(o['upstream']),
    attempts: parseAttempts(str(o['upstream_addr']), str(o['upstream_status']), str(o['upstream_response_time'])),
  };
}

/** True for an address a backend instance can have (`ip:port`, `[v6]:port`), not an upstream name. */
export function isBackendAddress(addr: string): boolean {
  return /^(?:\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-fA-F:.]+\]):\d{1,5}$/.test(addr);
}
