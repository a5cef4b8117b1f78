/**
 * The LVS cluster renderer the publisher drives: the settings snapshot of a director cluster plus
 * the service nodes' discovery instances (as real servers) in, the keepalived include out. LVS
 * configs are small, so every re-render is a whole one; the state only remembers the real
 * servers last seen, to say what changed.
 */
import { ValidationError, type LvsLocalAddressGroupSettings, type LvsVirtualServiceSettings } from '@canopy/core';
import { serverChanges, serversOn, sha256, type BackendSource, type ClusterRenderer, type Rendering } from '../nginx/index.ts';
import { checkKeepalivedConfig } from './keepalived-binary.ts';
import type { KeepalivedFlavor, LvsRealServer, LvsVirtualService } from './model.ts';
import { renderLvsConfig } from './render.ts';

/** One service node as a published LVS snapshot holds it. */
export interface LvsInputService {
  nodeId: number;
  /** The node's path when the snapshot was taken (comments and messages only). */
  path: string;
  virtualServices: LvsVirtualServiceSettings[];
}

/** The settings snapshot of one LVS cluster: what a version was rendered from. */
export interface LvsInput {
  flavor: KeepalivedFlavor;
  localAddressGroups: LvsLocalAddressGroupSettings[];
  services: LvsInputService[];
}

/** Real servers last rendered, by `nodeId:port`. */
export type LvsRenderState = Map<string, LvsRealServer[]>;

/** The outcome of `keepalived -t`, with the FULLNAT note when the fork's keywords were present. */
export type KeepalivedChecker = (text: string) => Promise<{ ok: boolean; output: string }>;

/** The renderer of LVS clusters over `backends`; `check` runs the real `keepalived -t`. */
export function createLvsRenderer(backends: BackendSource, check: KeepalivedChecker = checkKeepalivedConfig): ClusterRenderer<LvsInput, LvsRenderState> {
  function render(input: LvsInput): Rendering<LvsRenderState> {
    const state: LvsRenderState = new Map();
    const labels: string[] = [];
    const virtualServices: LvsVirtualService[] = input.services.flatMap((s) =>
      s.virtualServices.map((vs) => {
        const realPort = vs.realPort ?? vs.port;
        const key = `${s.nodeId}:${realPort}`;
        const realServers = state.get(key) ?? serversOn(backends, s.nodeId, realPort);
        state.set(key, realServers);
        labels.push(`service ${s.path} ${vs.protocol} ${vs.vip}:${vs.port}`);
        return { service: s.path, ...vs, realServers };
      }),
    );
    let files;
    try {
      files = renderLvsConfig({ flavor: input.flavor, localAddressGroups: input.localAddressGroups, virtualServices }).files;
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      const issues = err.issues.map((i) => (i.path[0] === 'virtualServices' && typeof i.path[1] === 'number' ? { ...i, path: [labels[i.path[1]] ?? '?', ...i.path.slice(2)] } : i));
      throw new ValidationError(`${err.message}: ${issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, issues);
    }
    return { files: files.map((f) => ({ ...f, sha256: sha256(f.content) })), state };
  }

  return {
    program: 'keepalived -t',
    backendNodes: (input) => input.services.map((s) => s.nodeId),
    render,
    rerender(before, input, changed) {
      const r = render(input);
      const notes: string[] = [];
      const paths = new Map(input.services.map((s) => [s.nodeId, s.path]));
      for (const [key, servers] of r.state) {
        const [node, port] = key.split(':').map(Number) as [number, number];
        const was = before?.get(key);
        if (!changed.has(node) || was === undefined) continue;
        const what = serverChanges(was, servers, port);
        if (what.length > 0) notes.push(`${paths.get(node) ?? `#${node}`}: ${what.join(', ')}`);
      }
      if (!before && changed.size > 0) notes.push(`instances of ${[...changed].map((n) => paths.get(n) ?? `#${n}`).join(', ')} changed`);
      return { ...r, notes };
    },
    check: async (files) => check(files.map((f) => f.content).join('\n')),
  };
}
