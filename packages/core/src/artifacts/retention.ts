/** Which versions of one service retention keeps: pure, so the server and its tests share it. */

export interface RetentionCandidate {
  version: string;
  /** ISO time of the push. */
  createdAt: string;
  /** ISO time a deployment of it last started, if ever. */
  deployedAt: string | null;
}

/**
 * The versions to remove: all but the newest `keepLast` (by push time), those deployed within
 * `keepDeployedDays` of `now`, and every version in `inUse` (running somewhere: never removed).
 */
export function pickRetained(
  versions: readonly RetentionCandidate[],
  policy: { keepLast: number; keepDeployedDays: number },
  inUse: ReadonlySet<string>,
  now: Date,
): { keep: string[]; remove: string[] } {
  const newestFirst = [...versions].sort((a, b) => (a.createdAt === b.createdAt ? b.version.localeCompare(a.version) : b.createdAt.localeCompare(a.createdAt)));
  const since = now.getTime() - policy.keepDeployedDays * 86_400_000;
  const keep: string[] = [];
  const remove: string[] = [];
  newestFirst.forEach((v, i) => {
    const recent = i < policy.keepLast;
    const deployed = v.deployedAt !== null && Date.parse(v.deployedAt) >= since;
    (recent || deployed || inUse.has(v.version) ? keep : remove).push(v.version);
  });
  return { keep, remove };
}
