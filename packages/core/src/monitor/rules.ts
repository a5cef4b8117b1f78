/**
 * Collect rules: what the agents under a node measure besides machine metrics (Nightingale's
 * collect rules): a port listening, a process running, an HTTP probe, a script printing
 * Prometheus text, a log file's pattern count. A node's rules apply to every machine beneath it;
 * a child's rule of the same name replaces the inherited one, and `disabled` removes it there.
 */
import { z } from 'zod';
import { NodeName } from '../schemas/common.ts';

const RuleName = NodeName.describe('a DNS label, unique on the node');
const Regex = z
  .string()
  .min(1)
  .max(500)
  .refine((s) => {
    try {
      new RegExp(s);
      return true;
    } catch {
      return false;
    }
  }, 'must be a valid regular expression');
const Seconds = (max: number) => z.number().int().min(1).max(max);
const base = { name: RuleName, disabled: z.boolean().optional() };

export const CollectRule = z.discriminatedUnion('kind', [
  z.strictObject({ ...base, kind: z.literal('port'), port: z.number().int().min(1).max(65535) }),
  /** Processes whose command line matches `pattern` (a regular expression). */
  z.strictObject({ ...base, kind: z.literal('process'), pattern: Regex }),
  z.strictObject({
    ...base,
    kind: z.literal('http'),
    url: z.url({ protocol: /^https?$/ }).max(2000),
    timeoutSeconds: Seconds(60).optional(),
    /** Status codes that count as success; default 200–399. */
    expectStatus: z.array(z.number().int().min(100).max(599)).max(20).optional(),
  }),
  /** A program printing Prometheus text; run as argv (never through a shell), its samples get `rule`. */
  z.strictObject({
    ...base,
    kind: z.literal('script'),
    argv: z.array(z.string().min(1).max(1000).refine((s) => !s.includes('\0'), 'must not contain NUL')).min(1).max(64),
    timeoutSeconds: Seconds(60).optional(),
    intervalSeconds: Seconds(3600).optional(),
  }),
  /** Lines appended to `path` matching `pattern`, counted as `canopy_log_matches_total`. */
  z.strictObject({ ...base, kind: z.literal('log'), path: z.string().regex(/^\/[^\0]{0,1023}$/, 'must be an absolute path'), pattern: Regex }),
]);
export type CollectRule = z.infer<typeof CollectRule>;

export const CollectRulesInput = z
  .strictObject({ rules: z.array(CollectRule).max(200) })
  .refine((v) => new Set(v.rules.map((r) => r.name)).size === v.rules.length, { message: 'rule names must be unique on a node', path: ['rules'] });
export type CollectRulesInput = z.infer<typeof CollectRulesInput>;

export const EffectiveCollectRule = z.object({ rule: CollectRule, from: z.string() });
export const CollectRulesView = z.object({
  node: z.string(),
  own: z.array(CollectRule),
  /** What the node's machines run, with the node each rule comes from. */
  effective: z.array(EffectiveCollectRule),
});
export type CollectRulesView = z.infer<typeof CollectRulesView>;

/** The per-machine document `collect` the agent runs. */
export const CollectDoc = z.object({ rules: z.array(CollectRule) });
export type CollectDoc = z.infer<typeof CollectDoc>;

/** The effective rules along a line of nodes (root first, each with its own rules). */
export function effectiveRules(line: { path: string; rules: CollectRule[] }[]): { rule: CollectRule; from: string; depth: number }[] {
  const byName = new Map<string, { rule: CollectRule; from: string; depth: number }>();
  line.forEach((node, depth) => {
    for (const rule of node.rules) {
      if (rule.disabled) byName.delete(rule.name);
      else byName.set(rule.name, { rule, from: node.path, depth });
    }
  });
  return [...byName.values()].sort((a, b) => (a.rule.name < b.rule.name ? -1 : 1));
}

/** A machine's rules over all its nodes: per name, the most specific (deepest) binding wins, ties by path. */
export function machineRules(perNode: { rule: CollectRule; from: string; depth: number }[][]): CollectRule[] {
  const best = new Map<string, { rule: CollectRule; from: string; depth: number }>();
  for (const list of perNode)
    for (const e of list) {
      const cur = best.get(e.rule.name);
      if (!cur || e.depth > cur.depth || (e.depth === cur.depth && e.from < cur.from)) best.set(e.rule.name, e);
    }
  return [...best.values()].map((e) => e.rule).sort((a, b) => (a.name < b.name ? -1 : 1));
}
