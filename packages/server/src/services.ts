/** The composition root: every service wired once, in dependency order. */
import type { FastifyPluginAsync } from 'fastify';
import type { Database } from './db/connection.ts';
import { createChangeFeed, createWriter, type Actor, type ChangeFeed, type Writer } from './changes/index.ts';
import { createTreeService, treeRoutes, type TreeService } from './tree/index.ts';
import { authRoutes, createAuthService, type AuthService } from './auth/index.ts';
import { createMachineService, machineRoutes, type MachineService } from './machines/index.ts';
import { auditRoutes } from './audit/index.ts';
import { createEnrollment, createProvisioningService, provisioningRoutes, type ProvisioningService } from './provisioning/index.ts';
import { createEncService, encRoutes, type EncService } from './enc/index.ts';
import { agentBlocks, agentRoutes, agentStatusRoutes, createAgentService, createDispatcher, enrollRoutes, installRoutes, sessionRoutes, type AgentService, type Dispatcher, type DispatcherOptions, type InstallOptions } from './agents/index.ts';
import { createDiscoveryService, discoveryRoutes, type DiscoveryAccessOptions, type DiscoveryOptions, type DiscoveryService } from './discovery/index.ts';
import { createNginxService, createRollout, discoveryBackends, nginxRoutes, rolloutRoutes, type NginxService, type Rollout } from './nginx/index.ts';
import { createLvsService, lvsRoutes, type LvsService } from './lvs/index.ts';
import { createInitCommands, createJobService, initCommandRoutes, jobRoutes, type JobService } from './jobs/index.ts';
import { createProcessService, processRoutes, type ProcessService } from './processes/index.ts';
import { createCronService, cronRoutes, type CronOptions, type CronService } from './cron/index.ts';
import { createDnsServer, type DnsOptions, type DnsServer } from './dns/index.ts';
import { createMonitorService, monitorRoutes, type MonitorOptions, type MonitorService } from './monitor/index.ts';
import { alertRoutes, createAlerting, type AlertOptions, type Alerting } from './alerts/index.ts';
import { createSshService, sshRoutes, type SshOptions, type SshService } from './ssh/index.ts';
import { artifactOptionsFromEnv, artifactRoutes, createArtifactService, type ArtifactOptions, type ArtifactService, type InUse } from './artifacts/index.ts';
import { createDeployService, deploymentRoutes, type DeployService } from './deploy/index.ts';
import { buildRoutes, createBuildService, createBuildSettings, type BuildService } from './builds/index.ts';
import { availabilityRoutes, createAvailabilityService, type AvailabilityService } from './availability/index.ts';

export interface Services {
  database: Database;
  feed: ChangeFeed;
  writer: Writer;
  tree: TreeService;
  auth: AuthService;
  machines: MachineService;
  provisioning: ProvisioningService;
  enc: EncService;
  discovery: DiscoveryService;
  /** Machine credentials (the agent capability). */
  agents: AgentService;
  /** Agent sessions and their tasks. */
  dispatcher: Dispatcher;
  /** Batch jobs over many machines. */
  jobs: JobService;
  /** Supervised processes: each node's declared app on every machine of the node. */
  processes: ProcessService;
  /** Rolling deployments of a node's process to a version of its artifacts. */
  deploy: DeployService;
  /** Builds on the build pools, stored into the artifact repository. */
  builds: BuildService;
  /** Scheduled jobs per node, run by the agents from their `cron` documents. */
  cron: CronService;
  /** The artifact repository (builds store into it, deployments and agents read it). */
  artifacts: ArtifactService;
  nginx: NginxService;
  lvs: LvsService;
  /** Config push: each published nginx/LVS version to one machine of the cluster, then the rest. */
  rollouts: { nginx: Rollout; lvs: Rollout };
  /** The DNS server, when `ServiceOptions.dns` asked for one. */
  dns: DnsServer | undefined;
  /** SSH access from grants: the agents' `ssh` documents and the logins they report. */
  ssh: SshService;
  /** Metrics from the agents, dashboards, Prometheus discovery, collect rules. */
  monitor: MonitorService;
  /** Alert rules on nodes, their evaluation and notifications. */
  alerts: Alerting;
  /** Availability from the nginx access logs, SLOs, automatic ejection of bad backends. */
  availability: AvailabilityService;
  /** Route plugins mounted under /api/v1. */
  routes: FastifyPluginAsync[];
  /** Route plugins mounted at the root (the agent's install script and files). */
  rootRoutes: FastifyPluginAsync[];
  /** Load read models and follow the change feed. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface ServiceOptions {
  /** Availability: the clock outlier detection reads (tests move it). */
  availability?: { clock?: () => number } | undefined;
  sessionHours?: number;
  onError?: (err: unknown) => void;
  /** URL of the Puppet classes file (CANOPY_PUPPET_CLASSES_URL); unset: uploads only. */
  puppetClassesUrl?: string | undefined;
  /** Seconds between catalog refreshes; default 300, 0: only at start and on demand. */
  puppetClassesRefreshSeconds?: number | undefined;
  /** Hours an install request stays open; default 168 (7 days). */
  provisioningTtlHours?: number | undefined;
  /** Discovery tunables and the agent seams (machine credentials, caller zone). */
  discovery?: DiscoveryOptions & DiscoveryAccessOptions;
  /** Quiet time (ms) collecting backend changes before nginx/LVS configs are re-published; default 200. */
  proxyDebounceMs?: number | undefined;
  /** Newest nginx/LVS config versions per cluster that keep their content (CANOPY_CONFIG_KEEP_VERSIONS); default 100. */
  configKeepVersions?: number | undefined;
  /** Agent sessions: heartbeat period, orphan grace. */
  agents?: DispatcherOptions | undefined;
  /** The agent install's public URL (CANOPY_PUBLIC_URL) and runtime. */
  agentInstall?: InstallOptions | undefined;
  /** Cron: runs kept per machine and entry. */
  cron?: CronOptions | undefined;
  /** Artifact storage and retention; default: CANOPY_ARTIFACTS_* (data dir, or S3 when a bucket is set). */
  artifacts?: Readonly<ArtifactOptions> | undefined;
  /** Versions of a service running now, which retention keeps (the deploy capability's answer). */
  artifactsInUse?: InUse | undefined;
  /** Serve discovery over DNS (CANOPY_DNS_PORT); unset: no DNS server. */
  dns?: DnsOptions | undefined;
  /** Metrics store tunables and Prometheus mode (CANOPY_PROMETHEUS_URL). */
  monitor?: MonitorOptions | undefined;
  /** Alert evaluation and notification tunables. */
  alerts?: AlertOptions | undefined;
  /** SSH access: uid bases, refresh debounce. */
  ssh?: SshOptions | undefined;
}

/** Build every service over `database`. */
export function createServices(database: Database, opts: ServiceOptions = {}): Services {
  const db = database.db;
  const feed = createChangeFeed(database, opts.onError);
  const writer = createWriter(database, feed);
  const tree = createTreeService({ writer, feed, db });
  const auth = createAuthService({ writer, feed, db, tree, sessionHours: opts.sessionHours ?? 12 });
  const machines = createMachineService({ writer, feed, db, tree });
  const provisioning = createProvisioningService(
    { writer, feed, db, tree, machines, auth },
    { ttlHours: opts.provisioningTtlHours ?? 168, sweepMs: 10 * 60_000, onError: opts.onError },
  );
  const enc = createEncService(
    { writer, feed, db, tree, machines, provisioning },
    { classesUrl: opts.puppetClassesUrl ?? null, refreshSeconds: opts.puppetClassesRefreshSeconds ?? 300, onError: opts.onError },
  );
  const agents = createAgentService({ writer, feed, db, machines });
  const enrollment = createEnrollment({ writer, db, tree, machines, issueIn: agents.issueIn });
  const dispatcher = createDispatcher({ writer, feed, db, machines }, { onError: opts.onError, ...opts.agents });
  const initCommands = createInitCommands({ writer, db, tree });
  const jobs = createJobService({ writer, feed, db, tree, machines, auth, dispatcher, initCommands, onError: opts.onError });
  const cron = createCronService({ writer, feed, db, tree, machines, dispatcher }, { onError: opts.onError, ...opts.cron });
  // Deployments need processes and artifacts, which ask them back what they hold and run: bound late.
  let deploy: DeployService | undefined;
  const inUse: InUse = opts.artifactsInUse ?? ((path, tx) => {
    const node = tree.model.byPath(path);
    return node && deploy ? deploy.inUse(tx, node.id) : [];
  });
  const artifacts = createArtifactService({ writer, db, tree, inUse, onError: opts.onError }, opts.artifacts ?? artifactOptionsFromEnv());
  const builds = createBuildService({ writer, feed, db, tree, machines, auth, dispatcher, artifacts, onError: opts.onError });
  const buildSettings = createBuildSettings({ writer, db, tree, auth });
  const discovery = createDiscoveryService({ writer, feed, db, tree, onError: opts.onError }, opts.discovery);
  const processes = createProcessService({ writer, feed, db, tree, machines, auth, dispatcher, discovery, onError: opts.onError, heldBy: (tx, nodeId) => deploy?.heldBy(tx, nodeId) ?? Promise.resolve(undefined), busy: (nodeId) => deploy?.orchestrator.activeOf(nodeId) !== undefined });
  deploy = createDeployService({ writer, feed, db, tree, machines, auth, dispatcher, processes, artifacts, availability: (nodeId, fromMs, now) => availability.during(nodeId, fromMs, now), onError: opts.onError });
  const agentMachine = (actor: Actor) => {
    const m = actor.machineId === undefined ? undefined : machines.model.get(actor.machineId);
    return m && { hostname: m.hostname, zone: m.zone, nodeIds: m.nodeIds };
  };
  const backends = discoveryBackends(discovery, tree.model);
  const proxy = { writer, feed, db, tree, backends, acl: auth, debounceMs: opts.proxyDebounceMs ?? 200, keepVersions: opts.configKeepVersions ?? 100, ...(opts.onError ? { onError: opts.onError } : {}) };
  const nginx = createNginxService(proxy);
  const lvs = createLvsService(proxy);
  const rollout = (kind: 'nginx' | 'lvs') => createRollout({ kind, writer, feed, db, dispatcher, machines, pathOf: (id) => tree.model.get(id)?.path ?? `#${id}`, onError: opts.onError });
  const rollouts = { nginx: rollout('nginx'), lvs: rollout('lvs') };
  const ssh = createSshService({ writer, feed, db, tree, machines, acl: auth.acl, dispatcher }, { onError: opts.onError, ...opts.ssh });
  const monitor = createMonitorService({ writer, feed, db, tree, machines, dispatcher, onError: opts.onError }, { relay: database.kind === 'postgres', ...opts.monitor });
  const alerts = createAlerting({ writer, feed, database, db, tree, machines, source: monitor.source, builtin: (metric, machineId) => availability.builtinSeries(metric, machineId), onError: opts.onError }, opts.alerts);
  const availability = createAvailabilityService({ writer, feed, db, tree, machines, nginx, discovery, dispatcher, onError: opts.onError, ...opts.availability });
  const dns = opts.dns ? createDnsServer({ discovery, tree, machines, feed }, { onError: opts.onError, ...opts.dns }) : undefined;
  const routes = [
    treeRoutes(tree, auth),
    authRoutes(auth),
    machineRoutes(machines, auth, writer, (ids) => agentBlocks(dispatcher, ids)),
    auditRoutes(db, tree, auth),
    provisioningRoutes(provisioning, auth, tree),
    encRoutes(enc, auth),
    agentRoutes(agents, machines, auth),
    sessionRoutes(dispatcher),
    enrollRoutes(enrollment),
    agentStatusRoutes(dispatcher, machines, auth),
    jobRoutes(jobs, auth),
    processRoutes(processes),
    deploymentRoutes(deploy),
    buildRoutes({ builds, settings: buildSettings, auth, tree, artifacts }),
    cronRoutes(cron, auth),
    artifactRoutes({ artifacts, auth, tree, agentNodes: (a) => (a.machineId === undefined ? undefined : machines.model.get(a.machineId)?.nodeIds) }),
    initCommandRoutes(initCommands, auth),
    ...discoveryRoutes(discovery, auth, tree, { agentMachine, ...opts.discovery }),
    ...nginxRoutes(nginx, auth),
    ...lvsRoutes(lvs, auth, tree),
    rolloutRoutes('nginx', rollouts.nginx, auth),
    rolloutRoutes('lvs', rollouts.lvs, auth),
    sshRoutes(ssh, auth, machines),
    monitorRoutes(monitor, auth),
    alertRoutes(alerts, auth),
    availabilityRoutes(availability, auth),
  ] as FastifyPluginAsync[];
  return {
    database,
    feed,
    writer,
    tree,
    auth,
    machines,
    provisioning,
    enc,
    discovery,
    agents,
    dispatcher,
    jobs,
    processes,
    deploy,
    builds,
    cron,
    artifacts,
    nginx,
    lvs,
    rollouts,
    dns,
    ssh,
    monitor,
    alerts,
    availability,
    routes,
    rootRoutes: [installRoutes(opts.agentInstall)],
    start: async () => {
      await feed.start(async () => {
        await tree.load(db);
        await auth.load(db);
        await machines.load(db);
        await provisioning.load(db);
        await enc.load(db);
        await cron.load(db);
        await discovery.load(db);
        await processes.load(db);
        await ssh.load(db);
        await monitor.load();
        await alerts.load();
        await nginx.load(db);
        await lvs.load(db);
        await availability.load(db);
      });
      provisioning.start();
      enc.start();
      discovery.start();
      dispatcher.start();
      await jobs.start();
      processes.start();
      await deploy.start();
      await builds.start();
      cron.start();
      artifacts.start();
      await rollouts.nginx.start();
      await rollouts.lvs.start();
      await ssh.start();
      monitor.start();
      await alerts.start();
      availability.start();
      await dns?.start();
    },
    stop: async () => {
      await builds.stop();
      await rollouts.nginx.stop();
      await rollouts.lvs.stop();
      ssh.stop();
      await alerts.stop();
      await monitor.stop();
      await availability.stop();
      await deploy.stop();
      await processes.stop();
      await dispatcher.stop();
      await cron.stop();
      await artifacts.stop();
      await dns?.stop();
      await lvs.stop();
      await nginx.stop();
      await discovery.stop();
      await enc.stop();
      await provisioning.stop();
      await feed.stop();
    },
  };
}
