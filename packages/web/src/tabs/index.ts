/**
 * The node page's tabs, in display order. A capability adds its tab by writing one file that
 * exports a `NodeTab` (key, label, icon, component taking `{node, onChanged}`) and adding it here.
 */
import type { NodeTab } from './types.ts';
import { overviewTab } from './overview/OverviewTab.tsx';
import { machinesTab } from './machines/MachinesTab.tsx';
import { permissionsTab } from './permissions/PermissionsTab.tsx';
import { auditTab } from './audit/AuditTab.tsx';
import { loginTab } from './login/LoginTab.tsx';
import { discoveryTab } from './discovery/DiscoveryTab.tsx';
import { configTab } from './config/ConfigTab.tsx';
import { nginxTab } from './nginx/NginxTab.tsx';
import { lvsTab } from './lvs/LvsTab.tsx';
import { jobsTab } from './jobs/JobsTab.tsx';
import { cronTab } from './cron/CronTab.tsx';
import { buildsTab } from './builds/BuildsTab.tsx';
import { processesTab } from './processes/ProcessesTab.tsx';
import { artifactsTab } from './artifacts/ArtifactsTab.tsx';
import { deployTab } from './deploy/DeployTab.tsx';
import { availabilityTab } from './availability/AvailabilityTab.tsx';
import { dashboardTab } from './dashboard/DashboardTab.tsx';
import { monitoringTab } from './monitoring/MonitoringTab.tsx';

export type { NodeChange, NodeTab, NodeTabProps } from './types.ts';

export const NODE_TABS: readonly NodeTab[] = [overviewTab, dashboardTab, monitoringTab, machinesTab, jobsTab, processesTab, cronTab, buildsTab, artifactsTab, deployTab, discoveryTab, availabilityTab, nginxTab, lvsTab, configTab, permissionsTab, loginTab, auditTab];
