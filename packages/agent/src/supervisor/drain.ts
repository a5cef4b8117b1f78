/**
 * In-flight connections to an app's ports, from the kernel's socket tables (/proc/net/tcp and tcp6
 * of the agent's network namespace, which is the app's), for waiting out a drain.
 */
import { readFileSync } from 'node:fs';

const ESTABLISHED = '01';

/** Established TCP connections whose local port is one of `ports`. */
export function establishedOn(ports: readonly number[]): number {
  if (ports.length === 0) return 0;
  const wanted = new Set(ports);
  let n = 0;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 4 || f[3] !== ESTABLISHED) continue;
      const local = f[1]!;
      const port = Number.parseInt(local.slice(local.lastIndexOf(':') + 1), 16);
      if (wanted.has(port)) n++;
    }
  }
  return n;
}
