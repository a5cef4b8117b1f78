/**
 * Old paths of renamed or moved nodes. The API answers a bookmark to an old path with 404
 * `code: "moved"` and `movedTo`; the node page then goes to the new path and says so there. The
 * notice outlives the old page (the new one is another mount), so it is kept here, per new path.
 */
import { ApiError } from '../api.ts';

const movedFrom = new Map<string, string>();

/** The new path named by a "moved" problem, or undefined for any other error. */
export function movedToOf(err: unknown): string | undefined {
  if (!(err instanceof ApiError) || err.status !== 404 || err.problem['code'] !== 'moved') return undefined;
  const to = err.problem['movedTo'];
  return typeof to === 'string' && to !== '' ? to : undefined;
}

/** Remember that the node now at `to` was reached through its old path `from`. */
export function rememberMove(from: string, to: string): void {
  movedFrom.set(to, from);
}

/** The old path the page at `to` was reached through, if any. */
export function movedFromOf(to: string): string | undefined {
  return movedFrom.get(to);
}

/** Forget the notice of `to` (the user closed it). */
export function forgetMove(to: string): void {
  movedFrom.delete(to);
}
