/**
 * Typed client for the Canopy REST API (`/api/v1`). It imports only types from @canopy/core, so
 * loading it costs no zod at run time: the CLI's fast paths (`canopy enc`) depend on that.
 */
import type { z } from 'zod';
import type {
  AuditEntryView,
  AuditQuery,
  CreateGrantInput,
  CreateGroupInput,
  CreateMachineInput,
  CreateNodeInput,
  CreateRoleInput,
  CreateTokenInput,
  CreateUserInput,
  ErrorCode,
  FieldIssue,
  GrantView,
  ImportReport,
  ListMachinesQuery,
  ListNodesQuery,
  MachineView,
  NodeView,
  PatchMachineInput,
  PatchNodeInput,
  PatchUserInput,
  TrashedNodeView,
  UserView,
  CredentialView,
  IssueCredentialInput,
  IssuedCredentialView,
} from '@canopy/core';

type In<T extends z.ZodType> = z.input<T>;
type Out<T extends z.ZodType> = z.output<T>;
/** Query parameters: every one optional, numbers as numbers (the server coerces them). */
type QueryOf<T extends z.ZodType> = Partial<Out<T>>;

export type User = Out<typeof UserView>;
export type Grant = Out<typeof GrantView>;
export type AuditEntry = Out<typeof AuditEntryView>;
export type TrashedNode = Out<typeof TrashedNodeView>;
export type Credential = Out<typeof CredentialView>;
export type IssuedCredential = Out<typeof IssuedCredentialView>;
export type { NodeView, MachineView, ImportReport };

/** A page of a list; `nextCursor` is absent on the last page. */
export interface Page<T> {
  items: T[];
  nextCursor?: string;
  total?: number;
}
export interface LoginResult {
  token: string;
  csrfToken: string;
  expiresAt: string;
  user: User;
}
export interface Group {
  id: number;
  name: string;
  description: string;
  members: string[];
}
export interface Role {
  id: number;
  name: string;
  description: string;
  operations: string[];
  builtin: boolean;
}
export interface TokenInfo {
  id: number;
  name: string;
  prefix: string;
  expiresAt: string | null;
  createdAt: string;
  revokedAt: string | null;
}
/** A new API token; `token` is shown once and never again. */
export interface NewToken {
  id: number;
  name: string;
  token: string;
  prefix: string;
  expiresAt: string | null;
}
/** Optimistic concurrency: the ETag read earlier, sent as If-Match. */
export interface WriteOptions {
  ifMatch?: string;
}

/** The server answered with an error (`application/problem+json`). */
export class CanopyApiError extends Error {
  readonly status: number;
  readonly code: ErrorCode;
  readonly detail: string;
  readonly issues: FieldIssue[];
  /** With code `moved`: the path the node named in the request has now. */
  readonly movedTo: string | undefined;
  constructor(status: number, code: ErrorCode, detail: string, issues: FieldIssue[] = [], movedTo?: string) {
    super(detail);
    this.name = 'CanopyApiError';
    this.status = status;
    this.code = code;
    this.detail = detail;
    this.issues = issues;
    this.movedTo = movedTo;
  }
}

/** The server could not be reached at all (refused, DNS, TLS, reset). */
export class CanopyNetworkError extends Error {
  constructor(url: string, cause: unknown) {
    const why = (cause as { cause?: { code?: string; message?: string } })?.cause;
    super(`cannot reach ${url}: ${why?.code ?? why?.message ?? (cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = 'CanopyNetworkError';
  }
}

export interface ClientOptions {
  /** Server base URL, e.g. `http://127.0.0.1:7070` (the `/api/v1` prefix is added). */
  url: string;
  /** Bearer token (API token or session token); absent for login. */
  token?: string | undefined;
  fetch?: typeof globalThis.fetch;
}

/** Status → code for error answers that are not problem documents (a proxy's 502 page, say). */
const CODE_OF_STATUS: Record<number, ErrorCode> = {
  400: 'validation_failed', 401: 'unauthenticated', 403: 'forbidden', 404: 'not_found', 409: 'conflict',
  412: 'precondition_failed', 413: 'payload_too_large', 422: 'config_invalid', 429: 'rate_limited', 503: 'unavailable',
};

type Query = Record<string, string | number | boolean | undefined>;

function qs(query: Query | undefined): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
}

const seg = encodeURIComponent;

async function toError(res: Response): Promise<CanopyApiError> {
  const text = await res.text();
  let body: { code?: unknown; detail?: unknown; issues?: unknown; movedTo?: unknown } | undefined;
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    // Not JSON: a proxy or a crash page; keep a readable start of it.
  }
  const code = typeof body?.code === 'string' ? (body.code as ErrorCode) : (CODE_OF_STATUS[res.status] ?? 'internal');
  const detail = typeof body?.detail === 'string' ? body.detail : `HTTP ${res.status} ${res.statusText}${text ? `: ${text.slice(0, 200)}` : ''}`;
  const movedTo = typeof body?.movedTo === 'string' ? body.movedTo : undefined;
  return new CanopyApiError(res.status, code, detail, Array.isArray(body?.issues) ? (body.issues as FieldIssue[]) : [], movedTo);
}

/** Build a client; every method resolves to the parsed answer or throws CanopyApiError / CanopyNetworkError. */
export function createClient(opts: ClientOptions) {
  const base = `${opts.url.replace(/\/+$/, '')}/api/v1`;
  const fetchFn = opts.fetch ?? globalThis.fetch;

  /** Any API call: JSON bodies are encoded, strings sent as-is (set content-type in `headers`). */
  async function request<T = unknown>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    const h: Record<string, string> = { accept: 'application/json, application/problem+json', ...headers };
    if (opts.token) h['authorization'] = `Bearer ${opts.token}`;
    let payload: string | undefined;
    if (body !== undefined) {
      payload = typeof body === 'string' ? body : JSON.stringify(body);
      h['content-type'] ??= typeof body === 'string' ? 'text/plain' : 'application/json';
    }
    const url = `${base}${path.startsWith('/') ? path : `/${path}`}`;
    let res: Response;
    try {
      res = await fetchFn(url, { method, headers: h, ...(payload !== undefined ? { body: payload } : {}) });
    } catch (err) {
      throw new CanopyNetworkError(opts.url, err);
    }
    if (!res.ok) throw await toError(res);
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    return (text && (res.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : text) as T;
  }

  const ifMatch = (w?: WriteOptions): Record<string, string> => (w?.ifMatch ? { 'if-match': w.ifMatch } : {});
  const items = async <T>(p: Promise<{ items: T[] }>): Promise<T[]> => (await p).items;

  return {
    url: opts.url,
    request,

    login: (username: string, password: string) => request<LoginResult>('POST', '/auth/login', { username, password }),
    logout: () => request<void>('POST', '/auth/logout'),
    me: () => request<User>('GET', '/auth/me'),

    nodes: {
      list: (query: QueryOf<typeof ListNodesQuery> = {}) => items(request<{ items: NodeView[] }>('GET', `/nodes${qs(query)}`)),
      get: (path: string) => request<NodeView>('GET', `/nodes/${seg(path)}`),
      create: (input: In<typeof CreateNodeInput>) => request<NodeView>('POST', '/nodes', input),
      patch: (path: string, input: In<typeof PatchNodeInput>, w?: WriteOptions) => request<NodeView>('PATCH', `/nodes/${seg(path)}`, input, ifMatch(w)),
      move: (path: string, parentPath: string | null, w?: WriteOptions) => request<NodeView>('POST', `/nodes/${seg(path)}/move`, { parentPath }, ifMatch(w)),
      delete: (path: string, w?: WriteOptions) => request<void>('DELETE', `/nodes/${seg(path)}`, undefined, ifMatch(w)),
      trash: () => items(request<{ items: TrashedNode[] }>('GET', '/trash')),
      restore: (id: number) => request<NodeView>('POST', `/trash/${id}/restore`),
    },

    machines: {
      list: (query: QueryOf<typeof ListMachinesQuery> = {}) => request<Page<MachineView>>('GET', `/machines${qs(query)}`),
      /** Every page of a listing, following `nextCursor`. */
      async *all(query: QueryOf<typeof ListMachinesQuery> = {}): AsyncGenerator<MachineView> {
        let cursor: string | undefined;
        do {
          const page = await request<Page<MachineView>>('GET', `/machines${qs({ ...query, cursor })}`);
          yield* page.items;
          cursor = page.nextCursor;
        } while (cursor);
      },
      get: (hostname: string) => request<MachineView>('GET', `/machines/${seg(hostname)}`),
      create: (input: In<typeof CreateMachineInput>) => request<MachineView>('POST', '/machines', input),
      patch: (hostname: string, input: In<typeof PatchMachineInput>, w?: WriteOptions) => request<MachineView>('PATCH', `/machines/${seg(hostname)}`, input, ifMatch(w)),
      retire: (hostname: string) => request<MachineView>('POST', `/machines/${seg(hostname)}/retire`),
      /** Bulk import: CSV text or JSON (an array of machines); answers a report per row. */
      import: (format: 'csv' | 'json', data: string | unknown[], mode: 'create' | 'upsert' = 'create') =>
        request<ImportReport>('POST', `/machines/import${qs({ mode })}`, typeof data === 'string' ? data : JSON.stringify(data), {
          'content-type': format === 'csv' ? 'text/csv' : 'application/json',
        }),
      bind: (path: string, hostname: string) => request<MachineView>('PUT', `/nodes/${seg(path)}/machines/${seg(hostname)}`),
      unbind: (path: string, hostname: string) => request<void>('DELETE', `/nodes/${seg(path)}/machines/${seg(hostname)}`),
      /** The credentials an agent on the machine authenticates with; an issued secret is shown once. */
      credentials: {
        issue: (hostname: string, input: In<typeof IssueCredentialInput> = {}) => request<IssuedCredential>('POST', `/machines/${seg(hostname)}/credentials`, input),
        list: async (hostname: string) => (await request<{ items: Credential[] }>('GET', `/machines/${seg(hostname)}/credentials`)).items,
        revoke: (hostname: string, id: number) => request<void>('DELETE', `/machines/${seg(hostname)}/credentials/${id}`),
      },
    },

    users: {
      list: () => items(request<{ items: User[] }>('GET', '/users')),
      create: (input: In<typeof CreateUserInput>) => request<User>('POST', '/users', input),
      patch: (username: string, input: In<typeof PatchUserInput>) => request<User>('PATCH', `/users/${seg(username)}`, input),
    },
    groups: {
      list: () => items(request<{ items: Group[] }>('GET', '/groups')),
      create: (input: In<typeof CreateGroupInput>) => request<Group>('POST', '/groups', input),
      setMembers: (name: string, members: string[]) => request<Group>('PUT', `/groups/${seg(name)}/members`, { members }),
    },
    roles: {
      list: () => items(request<{ items: Role[] }>('GET', '/roles')),
      create: (input: In<typeof CreateRoleInput>) => request<Role>('POST', '/roles', input),
      /** Every operation a role may hold, with what it allows. */
      operations: () => items(request<{ items: { name: string; description: string }[] }>('GET', '/operations')),
    },
    grants: {
      /** Grants on the node, its ancestors and its subtree. */
      list: (path: string) => items(request<{ items: Grant[] }>('GET', `/nodes/${seg(path)}/grants`)),
      create: (input: In<typeof CreateGrantInput>) => request<Grant>('POST', '/grants', input),
      revoke: (id: number) => request<void>('DELETE', `/grants/${id}`),
    },
    tokens: {
      list: () => items(request<{ items: TokenInfo[] }>('GET', '/tokens')),
      create: (input: In<typeof CreateTokenInput>) => request<NewToken>('POST', '/tokens', input),
      revoke: (id: number) => request<void>('DELETE', `/tokens/${id}`),
    },
    audit: {
      /** One page, newest first; pass the answer's `nextCursor` as `cursor` for older entries. */
      list: (query: QueryOf<typeof AuditQuery> = {}) => request<Page<AuditEntry>>('GET', `/audit${qs(query)}`),
    },
  };
}

/** The client `createClient` returns. */
export type CanopyClient = ReturnType<typeof createClient>;
