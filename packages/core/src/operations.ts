/** The registry of operations: every capability declares what can be granted on a node. */

export interface OperationInfo {
  name: string;
  description: string;
}

export const OPERATIONS = [
  { name: 'tree.read', description: 'see the node, its subtree and its settings' },
  { name: 'tree.write', description: 'create, rename, move and delete nodes' },
  { name: 'machine.read', description: 'list and inspect the machines of the node' },
  { name: 'machine.write', description: 'add, change, import, bind and retire machines' },
  { name: 'machine.login', description: 'log in to the node\'s machines over SSH' },
  { name: 'machine.sudo', description: 'run commands as root on the node\'s machines' },
  { name: 'machine.exec', description: 'run jobs as a non-root user on the node\'s machines' },
  { name: 'machine.root', description: 'run jobs as root on the node\'s machines (initialisation included)' },
  { name: 'machine.reboot', description: 'reboot the node\'s machines' },
  { name: 'grant.read', description: 'see who holds which role on the node' },
  { name: 'grant.write', description: 'grant and revoke roles on the node' },
  { name: 'audit.read', description: 'read the audit log of the node\'s subtree' },
  { name: 'discovery.read', description: 'resolve and watch the node\'s services' },
  { name: 'discovery.write', description: 'register services and instances, set aliases' },
  { name: 'nginx.read', description: 'see Nginx settings and generated configs' },
  { name: 'nginx.write', description: 'change Nginx settings, apply and roll back configs' },
  { name: 'lvs.read', description: 'see LVS settings and generated configs' },
  { name: 'lvs.write', description: 'change LVS settings, apply and roll back configs' },
  { name: 'enc.read', description: 'see Puppet classes and ENC answers' },
  { name: 'enc.write', description: 'associate Puppet classes and parameters with the node' },
  { name: 'deploy.read', description: 'see deployments and task status' },
  { name: 'monitor.read', description: 'see dashboards, metrics and collect rules of the node\'s machines' },
  { name: 'monitor.write', description: 'change the node\'s collect rules, alert rules and receivers; silence and acknowledge its alerts' },
  { name: 'deploy.run', description: 'start, pause and stop deployments' },
  { name: 'deploy.approve', description: 'approve a deployment someone else started, where the node asks for approval' },
  { name: 'cron.read', description: 'see the node\'s scheduled jobs and their runs' },
  { name: 'cron.write', description: 'set, override and disable scheduled jobs (running as root also needs machine.root)' },
  { name: 'artifact.read', description: 'list and download the node\'s artifacts' },
  { name: 'artifact.write', description: 'push artifacts to the node and remove its versions' },
  { name: 'availability.read', description: 'see the availability, SLOs and ejections of the node\'s services' },
  { name: 'availability.write', description: 'set SLOs and automatic ejection of the node\'s services' },
] as const satisfies readonly OperationInfo[];

export type Operation = (typeof OPERATIONS)[number]['name'];

const READS = OPERATIONS.filter((o) => o.name.endsWith('.read')).map((o) => o.name);

/** The built-in roles; custom roles are named sets of the same operations. */
export const BUILTIN_ROLES: { name: string; description: string; operations: Operation[] }[] = [
  { name: 'admin', description: 'everything on the subtree, including grants', operations: OPERATIONS.map((o) => o.name) },
  {
    name: 'ops',
    description: 'operate the subtree: tree, machines, SSH with sudo, every system',
    operations: OPERATIONS.map((o) => o.name).filter((n) => n !== 'grant.write'),
  },
  {
    name: 'developer',
    description: 'read everything, log in without sudo, deploy',
    operations: [...READS, 'machine.login', 'deploy.run', 'artifact.write'],
  },
  { name: 'viewer', description: 'read-only', operations: READS },
];

/** True for a known operation name. */
export function isOperation(name: string): name is Operation {
  return OPERATIONS.some((o) => o.name === name);
}
