/**
 * The nginx cluster renderer the publisher drives: a settings snapshot plus the current discovery
 * instances in, files out. It keeps the rendered chunk of every upstream, so when one service's
 * instances change only that upstream is rendered again and only the upstreams file is rejoined.
 */
import { ValidationError, type NginxDomainSettings } from '@canopy/core';
import { serverChanges, serversOn, type BackendSource } from './backends.ts';
import { NGINX_FILES, composeNginxFiles, renderNginxChunks } from './compose.ts';
import { sha256 } from './diff.ts';
import { byCodeUnit } from './escape.ts';
import { checkNginxConfig } from './nginx-binary.ts';
import type { DomainUri, NginxAttributes, NginxBalance, NginxService, UpstreamServer } from './model.ts';
import type { ClusterRenderer, HashedFile, Rendering } from './renderer-api.ts';
import { renderUpstream } from './render.ts';

/** How a cluster's nginx listens and logs. */
export interface NginxClusterOptions {
  /** Address every `listen` binds (IPv4 or `[IPv6]`); default: all addresses. */
  listenAddress?: string | undefined;
  /** Absolute directory of the access and error logs; default: nginx's prefix. */
  logDir?: string | undefined;
  /** Catch-all servers answering 404 for unknown hosts. */
  defaultServers: boolean;
}

/** One service as a published snapshot holds it: settings resolved, instances left out. */
export interface NginxInputService {
  nodeId: number;
  /** The node's path when the snapshot was taken (messages and comments only). */
  path: string;
  upstream: string;
  port: number;
  /** Only the domain URIs on this cluster's domains. */
  domainUris: DomainUri[];
  balance: NginxBalance;
  attributes: NginxAttributes;
}

/** The settings snapshot of one nginx cluster: what a version was rendered from. */
export interface NginxInput {
  options: NginxClusterOptions;
  domains: NginxDomainSettings[];
  services: NginxInputService[];
}

export interface NginxRenderState {
  services: Map<number, { path: string; service: NginxService }>;
  upstreams: Map<string, string>;
  /** Upstream names in file order. */
  order: string[];
  files: HashedFile[];
  /** Upstreams re-rendered since these files' last accepted version; null when that is unknown. */
  pending: Set<string> | null;
}

const hashed = (f: { path: string; content: string }): HashedFile => ({ ...f, sha256: sha256(f.content) });

function sameServers(a: readonly UpstreamServer[], b: readonly UpstreamServer[]): boolean {
  return a.length === b.length && a.every((s, i) => s.address === b[i]?.address && s.weight === b[i]?.weight && s.status === b[i]?.status && s.port === b[i]?.port);
}

/** The renderer of nginx clusters over `backends`; `check` runs the real `nginx -t`. */
export function createNginxRenderer(backends: BackendSource, check = checkNginxConfig): ClusterRenderer<NginxInput, NginxRenderState> {
  function render(input: NginxInput): Rendering<NginxRenderState> {
    const services = new Map<number, { path: string; service: NginxService }>();
    const list = input.services.map((s) => {
      const service: NginxService = { upstream: s.upstream, port: s.port, domainUris: s.domainUris, balance: s.balance, attributes: s.attributes, servers: serversOn(backends, s.nodeId, s.port) };
      services.set(s.nodeId, { path: s.path, service });
      return service;
    });
    const opts = { listenAddress: input.options.listenAddress, logDir: input.options.logDir, defaultServers: input.options.defaultServers };
    let chunks;
    try {
      chunks = renderNginxChunks({ domains: input.domains, services: list }, opts);
    } catch (err) {
      // Say which service a problem belongs to by its path, not by its place in the snapshot.
      if (!(err instanceof ValidationError)) throw err;
      const issues = err.issues.map((i) => (i.path[0] === 'services' && typeof i.path[1] === 'number' ? { ...i, path: [`service ${input.services[i.path[1]]?.path ?? '?'}`, ...i.path.slice(2)] } : i));
      throw new ValidationError(`${err.message}: ${issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, issues);
    }
    const files = composeNginxFiles(chunks).files.map(hashed);
    const upstreams = new Map(chunks.upstreams);
    return { files, state: { services, upstreams, order: [...upstreams.keys()].sort(byCodeUnit), files, pending: null } };
  }

  return {
    program: 'nginx -t',
    backendNodes: (input) => input.services.map((s) => s.nodeId),
    render,
    rerender(state, input, changed) {
      if (!state) {
        const r = render(input);
        const paths = input.services.filter((s) => changed.has(s.nodeId)).map((s) => s.path);
        return { ...r, notes: paths.length > 0 ? [`instances of ${paths.join(', ')} changed`] : [] };
      }
      const notes: string[] = [];
      for (const id of changed) {
        const cur = state.services.get(id);
        if (!cur) continue;
        const servers = serversOn(backends, id, cur.service.port);
        if (sameServers(cur.service.servers, servers)) continue;
        notes.push(`${cur.path}: ${serverChanges(cur.service.servers, servers, cur.service.port).join(', ')}`);
        const service = { ...cur.service, servers };
        state.services.set(id, { path: cur.path, service });
        state.upstreams.set(service.upstream, renderUpstream(service));
        state.pending?.add(service.upstream);
      }
      if (notes.length > 0) {
        const content = state.order.map((k) => state.upstreams.get(k) as string).join('');
        state.files = state.files.map((f) => (f.path === NGINX_FILES.upstreams ? hashed({ path: f.path, content }) : f));
      }
      return { files: state.files, state, notes };
    },
    check: (files) => check(files),
    // Only upstream blocks change after a backend change, and an upstream block stands alone
    // (nginx accepts one nothing proxies to): checking the changed ones checks everything that
    // differs from an accepted version, in milliseconds instead of seconds at 10,000 upstreams.
    checkScope(state) {
      if (state.pending === null) return undefined;
      const http = state.files.find((f) => f.path === NGINX_FILES.http);
      const content = [...state.pending].sort(byCodeUnit).map((k) => state.upstreams.get(k) ?? '').join('');
      const files = [...(http ? [http] : []), { path: NGINX_FILES.upstreams, content }];
      return { files, note: `canopy: nginx -t checked the ${state.pending.size} upstream block(s) re-rendered since the last accepted version; everything else is byte-identical to it\n` };
    },
    accepted(state) {
      state.pending = new Set();
    },
  };
}
