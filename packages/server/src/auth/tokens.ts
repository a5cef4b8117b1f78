/**
 * API tokens: created for oneself only, with an expiry by default (DEFAULT_TOKEN_DAYS) and never
 * without asking for it; listed and revoked by their owner, and by superusers for anyone.
 */
import { DEFAULT_TOKEN_DAYS, ForbiddenError, NotFoundError, UnauthenticatedError, ValidationError, type CreateTokenInput, type ListTokensQuery } from '@canopy/core';
import type { z } from 'zod';
import type { Actor, Writer } from '../changes/index.ts';
import type { Queryable } from '../db/connection.ts';
import { iso } from '../tree/index.ts';
import * as repo from './repo.ts';
import { hashSecret, newSecret } from './secrets.ts';

export interface TokenDeps {
  writer: Writer;
  db: Queryable;
  /** Change-feed topic whose `{hashes}` events drop secrets from every replica's principal cache. */
  revokedTopic: string;
}

/** A token as listed: ISO times, and whose it is. */
export function tokenView(t: repo.TokenRow) {
  return {
    id: t.id,
    name: t.name,
    prefix: t.prefix,
    username: t.username,
    expiresAt: t.expiresAt ? iso(t.expiresAt) : null,
    createdAt: iso(t.createdAt),
    revokedAt: t.revokedAt ? iso(t.revokedAt) : null,
  };
}

/** When a new token expires: as asked, or DEFAULT_TOKEN_DAYS from `now`; null only for `never`. */
export function tokenExpiry(input: z.infer<typeof CreateTokenInput>, now: number): string | null {
  if (input.never) return null;
  if (input.expiresAt !== undefined) {
    if (Date.parse(input.expiresAt) <= now) throw new ValidationError('expiresAt is in the past', [{ path: ['expiresAt'], message: 'must be in the future' }]);
    return new Date(input.expiresAt).toISOString();
  }
  return new Date(now + (input.expiresInDays ?? DEFAULT_TOKEN_DAYS) * 86400_000).toISOString();
}

/** The token operations the auth service exposes as its own. */
export function createTokenOps(deps: TokenDeps) {
  const { writer, db, revokedTopic } = deps;

  return {
    async createToken(actor: Actor, input: z.infer<typeof CreateTokenInput>) {
      if (actor.id === null || actor.kind !== 'user') throw new UnauthenticatedError();
      const userId = actor.id;
      const expiresAt = tokenExpiry(input, Date.now());
      const secret = newSecret('cnp');
      const row = await writer.run(actor, async (w) => {
        const t = await repo.insertToken(w.tx, { userId, name: input.name, tokenHash: hashSecret(secret), prefix: secret.slice(0, 8), expiresAt });
        w.audit({ operation: 'token.create', targetKind: 'token', target: `${actor.name}/${input.name}`, after: { id: t.id, name: t.name, prefix: t.prefix, expiresAt } });
        return t;
      });
      return { id: row.id, name: row.name, token: secret, prefix: row.prefix, expiresAt: row.expiresAt ? iso(row.expiresAt) : null };
    },

    /** The caller's tokens; with `user` or `all`, someone else's or everyone's (superusers only). */
    async listTokens(actor: Actor, query: z.infer<typeof ListTokensQuery>) {
      if (actor.id === null) return { items: [] };
      const others = query.all === true || (query.user !== undefined && query.user !== actor.name);
      if (others && !actor.superuser) throw new ForbiddenError("list other users' tokens", 'canopy');
      let userId: number | undefined = actor.id;
      if (query.all === true) userId = undefined;
      else if (query.user !== undefined && query.user !== actor.name) {
        const u = await repo.userByName(db, query.user);
        if (!u) throw new NotFoundError('user', query.user);
        userId = u.id;
      }
      const rows = await repo.listTokens(db, { userId, after: query.cursor ? Number(query.cursor) : undefined, limit: query.limit });
      const last = rows.at(-1);
      return { items: rows.map(tokenView), ...(rows.length === query.limit && last ? { nextCursor: String(last.id) } : {}) };
    },

    /** Revoke a token: one's own, or anyone's for a superuser. Others' tokens are not found. */
    async revokeToken(actor: Actor, id: number) {
      await writer.run(actor, async (w) => {
        const t = await repo.tokenById(w.tx, id);
        if (!t || (t.userId !== actor.id && !actor.superuser) || t.revokedAt !== null) throw new NotFoundError('token', String(id));
        const hash = await repo.revokeToken(w.tx, id);
        if (!hash) throw new NotFoundError('token', String(id));
        w.audit({ operation: 'token.revoke', targetKind: 'token', target: `${t.username}/${t.name}`, before: tokenView(t) });
        w.emit(revokedTopic, { hashes: [hash] });
      });
    },
  };
}
