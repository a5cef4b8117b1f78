/** The contract between the node page and its tabs. */
import type { ComponentType, ReactNode } from 'react';
import type { NodeView } from '../types.ts';

/** What a tab tells the page after it changed something, so the page and the tree follow. */
export type NodeChange =
  /** The node or its machines changed in place: re-read the node and the tree's counts. */
  | { kind: 'updated' }
  /** The node now lives at another path (rename, move). */
  | { kind: 'moved'; path: string }
  | { kind: 'deleted' };

export interface NodeTabProps {
  node: NodeView;
  onChanged: (change: NodeChange) => void;
}

/** One tab of the node page; register it in `tabs/index.ts`. */
export interface NodeTab {
  /** Stable key, also the `?tab=` value in the URL. */
  key: string;
  label: string;
  icon?: ReactNode;
  /** The operation that reading the tab needs; without it the tab is shown disabled, saying so. */
  needs?: string;
  Component: ComponentType<NodeTabProps>;
}
