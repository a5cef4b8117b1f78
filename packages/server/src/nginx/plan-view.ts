/** The plan's origins as the API answers them: the walk of plan-origins.ts, rendered and diffed. */
import { ValidationError } from '@canopy/core';
import { iso, type TreeNode } from '../tree/index.ts';
import type { NginxInput } from './cluster-render.ts';
import { nginxPlanSteps, type PlanOrigin, type RowAuthors } from './plan-origins.ts';
import type { SettingsRow } from './repo.ts';
import type { NginxService } from './service.ts';

const authorOf = (row: SettingsRow | undefined) => (row ? { by: row.updatedBy, at: iso(row.updatedAt) } : { by: '', at: '' });

/** Whose change each part of the cluster's plan is; undefined when nothing was published or a step cannot render. */
export async function planOrigins(nginx: NginxService, cluster: TreeNode, draft: NginxInput): Promise<PlanOrigin[] | undefined> {
  const published = await nginx.publisher.publishedInput(cluster.id);
  if (!published) return undefined;
  const s = nginx.settings;
  const who: RowAuthors = {
    cluster: () => authorOf(s.clusters.get(cluster.id)),
    domain: (name) => authorOf(s.domains.get(name)),
    service: (id) => authorOf(s.services.get(id)),
  };
  const steps = nginxPlanSteps(published as NginxInput, draft, who);
  let diffs;
  try {
    diffs = await nginx.publisher.planSteps(cluster.id, steps.map((x) => x.input));
  } catch (err) {
    // An in-between state the renderer refuses: the plan's whole diff still stands.
    if (err instanceof ValidationError) return undefined;
    throw err;
  }
  return steps.flatMap(({ input: _input, ...step }, i) => {
    const d = diffs[i];
    return d && d.diff !== '' ? [{ ...step, ...d }] : [];
  });
}
