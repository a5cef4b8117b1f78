/** Naming rules shared by server, SDK, CLI and console. */

/** A tree node name is a DNS label, so every service path maps to a DNS name. */
export const NODE_NAME_RE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** A dotted node path: labels joined by '.', root first (`corp.ops.web`). */
export const NODE_PATH_RE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** Longest path we accept: a DNS name is at most 253 characters. */
export const NODE_PATH_MAX = 253;

/** RFC 1123 hostname, lower-case, each label a DNS label; at most 253 characters. */
export const HOSTNAME_RE = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

export function isNodeName(s: string): boolean {
  return NODE_NAME_RE.test(s);
}

export function isNodePath(s: string): boolean {
  return s.length <= NODE_PATH_MAX && NODE_PATH_RE.test(s);
}

export function isHostname(s: string): boolean {
  return HOSTNAME_RE.test(s);
}

/** Path of the parent, or null for a root. */
export function parentOf(path: string): string | null {
  const i = path.lastIndexOf('.');
  return i < 0 ? null : path.slice(0, i);
}

/** Last label of a path. */
export function nameOf(path: string): string {
  return path.slice(path.lastIndexOf('.') + 1);
}

/** Join a parent path (or null for root) and a child name. */
export function joinPath(parent: string | null, name: string): string {
  return parent === null ? name : `${parent}.${name}`;
}

/** True when `path` is `ancestor` itself or lies beneath it. */
export function isWithin(path: string, ancestor: string): boolean {
  return path === ancestor || path.startsWith(`${ancestor}.`);
}

/** Depth of a path: a root is 1. */
export function depthOf(path: string): number {
  let d = 1;
  for (let i = 0; i < path.length; i++) if (path.charCodeAt(i) === 46) d++;
  return d;
}

/** `web.ops.corp` for `corp.ops.web`: the DNS order of a node path. */
export function pathToDnsName(path: string): string {
  return path.split('.').reverse().join('.');
}
