/**
 * The node page's tabs, in display order. A capability adds its tab by writing one file that
 * exports a `NodeTab` (key, label, icon, component taking `{node, onChanged}`) and adding it here.
 */
import type { NodeTab } from './types.ts';
import { overviewTab } from './overview/OverviewTab.tsx';
import { machinesTab } from './machines/MachinesTab.tsx';
import { permissionsTab } from './permissions/PermissionsTab.tsx';
import { auditTab } from './audit/AuditTab.tsx';
import { discoveryTab } from './discovery/DiscoveryTab.tsx';
import { configTab } from './config/ConfigTab.tsx';
import { nginxTab } from './nginx/NginxTab.tsx';
import { lvsTab } from './lvs/LvsTab.tsx';
import { jobsTab } from './jobs/JobsTab.tsx';

export type { NodeChange, NodeTab, NodeTabProps } from './types.ts';

export const NODE_TABS: readonly NodeTab[] = [overviewTab, machinesTab, jobsTab, discoveryTab, nginxTab, lvsTab, configTab, permissionsTab, auditTab];
