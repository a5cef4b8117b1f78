/**
 * The console's one way to the API: same-origin fetch with the session cookie, the CSRF header on
 * unsafe methods, and problem+json errors turned into `ApiError`.
 */
import type { ErrorCode, FieldIssue } from '@canopy/core';

export const API = '/api/v1';
const CSRF_KEY = 'canopy.csrf';
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** A failed API call: the server's problem document, or a network failure. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: ErrorCode | 'network';
  readonly issues: FieldIssue[];
  /** Every field of the problem document (e.g. `output` of a refused config). */
  readonly problem: Readonly<Record<string, unknown>>;
  constructor(status: number, code: ErrorCode | 'network', detail: string, issues: FieldIssue[] = [], problem: Record<string, unknown> = {}) {
    super(detail);
    this.status = status;
    this.code = code;
    this.issues = issues;
    this.problem = problem;
  }
}

/** nginx -t or keepalived -t refused a generated config; `output` is what it printed. */
export class ConfigRejectedError extends ApiError {
  get program(): string {
    return String(this.problem['program'] ?? '');
  }
  get output(): string {
    return String(this.problem['output'] ?? '');
  }
}

/** Remember the session's CSRF token; sessionStorage keeps it across reloads of this tab only. */
export function setCsrfToken(token: string | null): void {
  if (token === null) sessionStorage.removeItem(CSRF_KEY);
  else sessionStorage.setItem(CSRF_KEY, token);
}

/** Whether this tab holds a CSRF token (it cannot write without one). */
export function hasCsrfToken(): boolean {
  return sessionStorage.getItem(CSRF_KEY) !== null;
}

type Listener = () => void;
const unauthenticatedListeners = new Set<Listener>();

/** Call `fn` whenever the server says the session is gone; returns the unsubscribe function. */
export function onUnauthenticated(fn: Listener): () => void {
  unauthenticatedListeners.add(fn);
  return () => unauthenticatedListeners.delete(fn);
}

export type Query = Record<string, string | number | boolean | undefined | null>;

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  /** Send `body` as is with this content type instead of JSON. */
  contentType?: string;
  /** Extra request headers, e.g. If-Match on a conditional write. */
  headers?: Record<string, string>;
  /** Aborts the call (a blocking watch when its tab closes); the AbortError propagates as is. */
  signal?: AbortSignal;
}

/** `path` with the non-empty query parameters appended. */
export function withQuery(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

async function problemOf(res: Response): Promise<ApiError> {
  const text = await res.text();
  try {
    const p = JSON.parse(text) as { code?: ErrorCode; detail?: string; issues?: FieldIssue[] };
    const Kind = p.code === 'config_invalid' ? ConfigRejectedError : ApiError;
    return new Kind(res.status, p.code ?? 'internal', p.detail ?? `${res.status} ${res.statusText}`, p.issues ?? [], p as Record<string, unknown>);
  } catch {
    return new ApiError(res.status, 'internal', text || `${res.status} ${res.statusText}`);
  }
}

// One round trip: the response when it is 2xx, else the server's problem as an ApiError.
async function send(method: string, path: string, opts: RequestOptions): Promise<Response> {
  const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
  const csrf = sessionStorage.getItem(CSRF_KEY);
  if (UNSAFE.has(method) && csrf) headers['x-csrf-token'] = csrf;
  let body: BodyInit | undefined;
  if (opts.body !== undefined) {
    headers['content-type'] = opts.contentType ?? 'application/json';
    body = opts.contentType ? (opts.body as BodyInit) : JSON.stringify(opts.body);
  }
  let res: Response;
  try {
    res = await fetch(withQuery(`${API}${path}`, opts.query), { method, headers, body: body ?? null, credentials: 'same-origin', signal: opts.signal ?? null });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError(0, 'network', `cannot reach the server: ${(err as Error).message}`);
  }
  if (!res.ok) {
    const err = await problemOf(res);
    if (res.status === 401 && path !== '/auth/login') for (const fn of unauthenticatedListeners) fn();
    throw err;
  }
  return res;
}

async function bodyOf<T>(res: Response): Promise<T> {
  if (res.status === 204) return undefined as T;
  const type = res.headers.get('content-type') ?? '';
  return (type.includes('json') ? await res.json() : await res.text()) as T;
}

/** Call the API; resolves to the parsed JSON body (undefined for 204). */
export async function request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
  return bodyOf<T>(await send(method, path, opts));
}

/** Call the API and also return the response's ETag, to send back as If-Match on the next write. */
export async function requestWithEtag<T>(method: string, path: string, opts: RequestOptions = {}): Promise<{ body: T; etag: string | null }> {
  const res = await send(method, path, opts);
  return { etag: res.headers.get('etag'), body: await bodyOf<T>(res) };
}

/** Shorthands for the common verbs. */
export const api = {
  get: <T>(path: string, query?: Query) => request<T>('GET', path, query ? { query } : {}),
  post: <T>(path: string, body?: unknown, query?: Query) => request<T>('POST', path, { body, ...(query ? { query } : {}) }),
  put: <T>(path: string, body?: unknown) => request<T>('PUT', path, { body }),
  patch: <T>(path: string, body: unknown) => request<T>('PATCH', path, { body }),
  del: (path: string) => request<void>('DELETE', path),
};

/** A node path or hostname as one URL segment. */
export const seg = (s: string): string => encodeURIComponent(s);

/** A readable message for any thrown value. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
