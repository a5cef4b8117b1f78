/**
 * A very small client-side router over the History API: the console has three kinds of page
 * (login, home, node), which does not justify a routing library.
 */
import { useSyncExternalStore } from 'react';

export type Route =
  | { page: 'home' }
  | { page: 'login' }
  | { page: 'node'; path: string; tab: string | undefined }
  | { page: 'admin'; section: string };

const listeners = new Set<() => void>();

function subscribe(fn: () => void): () => void {
  listeners.add(fn);
  window.addEventListener('popstate', fn);
  return () => {
    listeners.delete(fn);
    window.removeEventListener('popstate', fn);
  };
}

const href = (): string => window.location.pathname + window.location.search;

/** Parse a location into a route. */
export function parseRoute(pathname: string, search: string): Route {
  if (pathname === '/login') return { page: 'login' };
  const m = /^\/nodes\/([^/]+)\/?$/.exec(pathname);
  if (m?.[1]) return { page: 'node', path: decodeURIComponent(m[1]), tab: new URLSearchParams(search).get('tab') ?? undefined };
  const admin = /^\/admin(?:\/([a-z-]+))?\/?$/.exec(pathname);
  if (admin) return { page: 'admin', section: admin[1] ?? 'users' };
  return { page: 'home' };
}

/** The URL of a node page, optionally on one tab. */
export function nodeUrl(path: string, tab?: string): string {
  return `/nodes/${encodeURIComponent(path)}${tab ? `?tab=${encodeURIComponent(tab)}` : ''}`;
}

/** The URL of an admin page (users, groups, roles, tokens, trash, audit, auth-log). */
export function adminUrl(section: string): string {
  return `/admin/${section}`;
}

/** Go to `url` (a same-origin path); `replace` avoids a new history entry. */
export function navigate(url: string, replace = false): void {
  if (url === href()) return;
  if (replace) window.history.replaceState(null, '', url);
  else window.history.pushState(null, '', url);
  for (const fn of listeners) fn();
}

/** The current route; re-renders on navigation. */
export function useRoute(): Route {
  const current = useSyncExternalStore(subscribe, href);
  const url = new URL(current, window.location.origin);
  return parseRoute(url.pathname, url.search);
}
