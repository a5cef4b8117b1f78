/**
 * The contract between the publisher and a kind of cluster (nginx, LVS): render a settings
 * snapshot with the current instances, re-render after instances change, check with the real
 * program.
 */
import type { RenderedFile } from './model.ts';

/** A generated file with its content digest. */
export interface HashedFile extends RenderedFile {
  sha256: string;
}

/** Files rendered from an input, and the renderer's cache for re-rendering them. */
export interface Rendering<S> {
  files: HashedFile[];
  state: S;
}

/** What a kind of cluster (nginx, LVS) plugs into the publisher. */
export interface ClusterRenderer<I, S> {
  /** The program whose check gates publication, e.g. `nginx -t`. */
  program: string;
  /** Service nodes whose instances the input renders. */
  backendNodes(input: I): Iterable<number>;
  /** The whole input with the current instances; throws ValidationError for inconsistent input. */
  render(input: I): Rendering<S>;
  /** After the instances of `changed` changed: reuses `state` when given; notes say what changed. */
  rerender(state: S | undefined, input: I, changed: ReadonlySet<number>): Rendering<S> & { notes: string[] };
  check(files: readonly RenderedFile[]): Promise<{ ok: boolean; output: string }>;
  /**
   * What the real program must see to vouch for a re-render: only what changed since the state's
   * files were last accepted, when the renderer can tell (`note` says so); undefined: everything.
   */
  checkScope?(state: S): { files: RenderedFile[]; note: string } | undefined;
  /** The state's files were published: later check scopes start from them. */
  accepted?(state: S): void;
}
