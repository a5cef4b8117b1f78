/**
 * Whose change each hunk of an nginx plan comes from. A cluster's config mixes settings of many
 * teams (the cluster's own, every domain's, every routed service's), so the plan walks from the
 * published snapshot to the draft one changed row at a time and diffs each step: every hunk of a
 * step belongs to that row, whose last writer the settings model remembers.
 */
import type { NginxInput, NginxInputService } from './cluster-render.ts';
import { canonicalJson } from './diff.ts';

/** One settings row's share of a plan. */
export interface PlanOrigin {
  kind: 'instances' | 'cluster' | 'domain' | 'service';
  /** `corp.ops.edge`, `pay.example.com`, `corp.pay.web`; for instances, the services whose backends changed. */
  target: string;
  change: 'added' | 'changed' | 'removed';
  /** Who last wrote the row and when (ISO 8601); empty for instances. */
  by: string;
  at: string;
  diff: string;
  added: number;
  removed: number;
}

/** Who last wrote a row of the draft. */
export interface RowAuthors {
  cluster(): { by: string; at: string };
  domain(name: string): { by: string; at: string };
  service(nodeId: number): { by: string; at: string };
}

/** Steps beyond this are folded into the last one: a plan of a new cluster touches everything. */
const MAX_STEPS = 40;

const same = (a: unknown, b: unknown) => canonicalJson(a) === canonicalJson(b);

type Step = Omit<PlanOrigin, 'diff' | 'added' | 'removed'> & { input: NginxInput };

/** The inputs from `published` to `draft`, one changed row per step (the first re-renders instances only). */
export function nginxPlanSteps(published: NginxInput, draft: NginxInput, who: RowAuthors): Step[] {
  const steps: Step[] = [{ kind: 'instances', target: 'backend instances', change: 'changed', by: '', at: '', input: published }];
  let cur = published;
  const push = (s: Omit<Step, 'input'>, input: NginxInput) => {
    steps.push({ ...s, input });
    cur = input;
  };

  const names = (i: NginxInput) => i.domains.map((d) => d.domain);
  if (!same(cur.options, draft.options) || !same(names(cur), names(draft))) {
    // The cluster row: options and which domains it serves (URIs on dropped domains go with them).
    const keep = new Set(names(draft));
    const domains = [...cur.domains.filter((d) => keep.has(d.domain)), ...draft.domains.filter((d) => !names(cur).includes(d.domain))].sort((a, b) => (a.domain < b.domain ? -1 : 1));
    const services = cur.services.flatMap((s) => {
      const uris = s.domainUris.filter((du) => keep.has(du.domain));
      return uris.length > 0 ? [{ ...s, domainUris: uris }] : [];
    });
    push({ kind: 'cluster', target: 'cluster settings', change: 'changed', ...who.cluster() }, { options: draft.options, domains, services });
  }
  for (const d of draft.domains) {
    const before = cur.domains.find((x) => x.domain === d.domain);
    if (before && same(before, d)) continue;
    push({ kind: 'domain', target: d.domain, change: before ? 'changed' : 'added', ...who.domain(d.domain) }, { ...cur, domains: cur.domains.map((x) => (x.domain === d.domain ? d : x)) });
  }
  const ids = [...new Set([...cur.services.map((s) => s.nodeId), ...draft.services.map((s) => s.nodeId)])].sort((a, b) => a - b);
  for (const id of ids) {
    const before = cur.services.find((s) => s.nodeId === id);
    const after = draft.services.find((s) => s.nodeId === id);
    if (before && after && same(before, after)) continue;
    const services: NginxInputService[] = [...cur.services.filter((s) => s.nodeId !== id), ...(after ? [after] : [])].sort((a, b) => a.nodeId - b.nodeId);
    const change = !before ? 'added' : !after ? 'removed' : 'changed';
    push({ kind: 'service', target: (after ?? before)?.path ?? `#${id}`, change, ...who.service(id) }, { ...cur, services });
  }
  if (steps.length > MAX_STEPS) {
    const rest = steps.splice(MAX_STEPS - 1);
    steps.push({ kind: 'service', target: `${rest.length} more rows`, change: 'changed', by: [...new Set(rest.map((r) => r.by))].join(', '), at: '', input: draft });
  }
  // The walk ends at the draft itself, so the step diffs add up to the plan's diff.
  const last = steps.at(-1);
  if (last) last.input = draft;
  return steps;
}
