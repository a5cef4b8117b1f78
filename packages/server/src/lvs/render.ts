/**
 * keepalived `virtual_server` rendering. keepalived has no quoting worth trusting (`#`/`!` start
 * comments anywhere, `$` expands definitions, `@` selects by config id), so every token written
 * must match a grammar that contains none of those characters; anything else is refused.
 */
import { isIP } from 'node:net';
import { CHECK_PATH_RE, KEEPALIVED_NAME_RE, LVS_SCHEDULERS, ValidationError, isNodePath, type FieldIssue } from '@canopy/core';
import type { KeepalivedFlavor, LvsClusterInput, LvsHealthCheck, LvsLocalAddressGroup, LvsRealServer, LvsVirtualService, RenderedConfig } from './model.ts';

const SCHEDULERS = new Set<string>(LVS_SCHEDULERS);

/** File name of the generated keepalived include. */
export const LVS_FILE = 'canopy-lvs.conf';

function refuse(path: (string | number)[], message: string): never {
  throw new ValidationError(`cannot render LVS config: ${message}`, [{ path, message }]);
}

function int(n: number, min: number, max: number, path: (string | number)[]): string {
  if (!Number.isInteger(n) || n < min || n > max) refuse(path, `${n} is not an integer in ${min}…${max}`);
  return String(n);
}

/** Canonical IP text, or null: keepalived, like nginx, refuses some IPv6 spellings Node accepts. */
function canonical(address: string): string | null {
  const family = isIP(address);
  if (family === 4) return address;
  if (family !== 6) return null;
  try {
    return new URL(`http://[${address}]/`).hostname.slice(1, -1);
  } catch {
    return null; // zone ids and the like
  }
}

function ip(address: string, path: (string | number)[]): string {
  return canonical(address) ?? refuse(path, `'${address}' is not an IP address`);
}

function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function renderCheck(check: LvsHealthCheck, flavor: KeepalivedFlavor, pad: string): string[] {
  if (check.type === 'none') return [];
  if (check.type === 'UDP_CHECK' && flavor === 'fullnat') refuse(['healthCheck', 'type'], 'the FULLNAT keepalived has no UDP_CHECK');
  const out = [`${pad}${check.type} {`];
  if (check.type === 'HTTP_GET') {
    if (!CHECK_PATH_RE.test(check.path)) refuse(['healthCheck', 'path'], `'${check.path}' is not an allowed check path`);
    out.push(`${pad}    url {`, `${pad}        path ${check.path}`, `${pad}        status_code ${int(check.statusCode, 100, 599, ['healthCheck', 'statusCode'])}`, `${pad}    }`);
  }
  out.push(`${pad}    connect_timeout ${int(check.connectTimeout, 1, 3600, ['healthCheck', 'connectTimeout'])}`);
  if (check.connectPort !== undefined) out.push(`${pad}    connect_port ${int(check.connectPort, 1, 65535, ['healthCheck', 'connectPort'])}`);
  // The fork's TCP_CHECK knows only connect_timeout/connect_port; its HTTP_GET says nb_get_retry.
  const legacyTcp = flavor === 'fullnat' && check.type === 'TCP_CHECK';
  if (check.retry !== undefined && !legacyTcp) {
    out.push(`${pad}    ${flavor === 'fullnat' ? 'nb_get_retry' : 'retry'} ${int(check.retry, 0, 100, ['healthCheck', 'retry'])}`);
  }
  if (check.delayBeforeRetry !== undefined && !legacyTcp) {
    out.push(`${pad}    delay_before_retry ${int(check.delayBeforeRetry, 1, 3600, ['healthCheck', 'delayBeforeRetry'])}`);
  }
  out.push(`${pad}}`);
  return out;
}

function renderRealServer(rs: LvsRealServer, vs: LvsVirtualService, realPort: string, check: string[], i: number): string[] {
  const address = ip(rs.address, ['realServers', i, 'address']);
  if (isIP(address) !== isIP(vs.vip) && vs.forwarding !== 'TUN') {
    refuse(['realServers', i, 'address'], `${address} and VIP ${vs.vip} differ in family; only TUN can mix them`);
  }
  // Weight 0 is IPVS's drain: established connections continue, nothing new is scheduled.
  const weight = rs.status === 'up' ? int(rs.weight, 0, 65535, ['realServers', i, 'weight']) : '0';
  return [`    real_server ${address} ${realPort} {`, `        weight ${weight}`, ...check, '    }'];
}

/**
 * One `virtual_server` block, or a comment when it has no real server (keepalived would ignore
 * it and `keepalived -t` would fail on it).
 */
export function renderVirtualServer(vs: LvsVirtualService, flavor: KeepalivedFlavor): string {
  const vip = ip(vs.vip, ['vip']);
  const port = int(vs.port, 1, 65535, ['port']);
  const realPort = int(vs.realPort ?? vs.port, 1, 65535, ['realPort']);
  if (vs.protocol !== 'TCP' && vs.protocol !== 'UDP') refuse(['protocol'], `protocol ${String(vs.protocol)} is not TCP or UDP`);
  if (!SCHEDULERS.has(vs.scheduler)) refuse(['scheduler'], `unknown scheduler '${vs.scheduler}'`);
  if (!['DR', 'NAT', 'TUN', 'FNAT'].includes(vs.forwarding)) refuse(['forwarding'], `unknown forwarding '${vs.forwarding}'`);
  if ((vs.forwarding === 'DR' || vs.forwarding === 'TUN') && realPort !== port) refuse(['realPort'], `${vs.forwarding} keeps the port`);
  const fnat = vs.forwarding === 'FNAT';
  if ((fnat || vs.synProxy === true || vs.localAddressGroup !== undefined) && flavor !== 'fullnat') {
    refuse(['forwarding'], 'FNAT, syn_proxy and local-address groups need the fullnat keepalived flavor');
  }
  if (vs.synProxy === true && (!fnat || vs.protocol !== 'TCP')) refuse(['synProxy'], 'syn_proxy needs FNAT over TCP');
  if (fnat !== (vs.localAddressGroup !== undefined)) refuse(['localAddressGroup'], 'FNAT needs a local-address group, other methods none');
  const head = vs.service !== undefined && isNodePath(vs.service) ? [`# ${vs.service}`] : [];
  if (vs.realServers.length === 0) return [...head, `# virtual_server ${vip} ${port} ${vs.protocol}: no real servers, left out`, ''].join('\n');
  const out = [...head, `virtual_server ${vip} ${port} {`];
  if (vs.delayLoop !== undefined) out.push(`    delay_loop ${int(vs.delayLoop, 1, 3600, ['delayLoop'])}`);
  out.push(`    lb_algo ${vs.scheduler}`, `    lb_kind ${vs.forwarding}`, `    protocol ${vs.protocol}`);
  if (vs.persistenceTimeout !== undefined) out.push(`    persistence_timeout ${int(vs.persistenceTimeout, 1, 2_592_000, ['persistenceTimeout'])}`);
  if (vs.synProxy === true) out.push('    syn_proxy');
  if (vs.localAddressGroup !== undefined) {
    if (!KEEPALIVED_NAME_RE.test(vs.localAddressGroup)) refuse(['localAddressGroup'], `'${vs.localAddressGroup}' is not a valid group name`);
    out.push(`    laddr_group_name ${vs.localAddressGroup}`);
  }
  const check = renderCheck(vs.healthCheck, flavor, '        ');
  const seen = new Set<string>();
  const servers = [...vs.realServers].sort((a, b) => byCodeUnit(a.address, b.address));
  servers.forEach((rs, i) => {
    const key = ip(rs.address, ['realServers', i, 'address']);
    if (seen.has(key)) refuse(['realServers', i, 'address'], `real server ${rs.address} is listed twice`);
    seen.add(key);
    out.push(...renderRealServer(rs, vs, realPort, check, i));
  });
  out.push('}', '');
  return out.join('\n');
}

/** One FULLNAT `local_address_group` block. */
export function renderLocalAddressGroup(group: LvsLocalAddressGroup): string {
  if (!KEEPALIVED_NAME_RE.test(group.name)) refuse(['localAddressGroups', 'name'], `'${group.name}' is not a valid group name`);
  if (group.addresses.length === 0) refuse(['localAddressGroups', group.name], 'a local-address group needs an address');
  const addrs = [...group.addresses].sort(byCodeUnit).map((a, i) => `    ${ip(a, ['localAddressGroups', group.name, i])}`);
  return [`local_address_group ${group.name} {`, ...addrs, '}', ''].join('\n');
}

function checkCluster(input: LvsClusterInput): void {
  const issues: FieldIssue[] = [];
  const groups = new Set((input.localAddressGroups ?? []).map((g) => g.name));
  if (groups.size > 0 && input.flavor !== 'fullnat') issues.push({ path: ['localAddressGroups'], message: 'local-address groups need the fullnat flavor' });
  const seen = new Set<string>();
  input.virtualServices.forEach((vs, i) => {
    const key = `${canonical(vs.vip) ?? vs.vip} ${vs.port} ${vs.protocol}`;
    if (seen.has(key)) issues.push({ path: ['virtualServices', i], message: `${vs.protocol} ${vs.vip}:${vs.port} is claimed twice` });
    seen.add(key);
    if (vs.localAddressGroup !== undefined && !groups.has(vs.localAddressGroup)) {
      issues.push({ path: ['virtualServices', i, 'localAddressGroup'], message: `no local-address group '${vs.localAddressGroup}'` });
    }
  });
  if (issues.length > 0) throw new ValidationError('the LVS cluster configuration is inconsistent', issues);
}

/** The whole keepalived include for a cluster; deterministic for the same input. */
export function renderLvsConfig(input: LvsClusterInput): RenderedConfig {
  checkCluster(input);
  const groups = [...(input.localAddressGroups ?? [])].sort((a, b) => byCodeUnit(a.name, b.name)).map(renderLocalAddressGroup);
  const services = input.virtualServices
    .map((vs, i) => ({ vs, i }))
    .sort(({ vs: a }, { vs: b }) => byCodeUnit(a.vip, b.vip) || a.port - b.port || byCodeUnit(a.protocol, b.protocol))
    .map(({ vs, i }) => {
      try {
        return renderVirtualServer(vs, input.flavor);
      } catch (err) {
        // Point the issue at the virtual service in the caller's input, not inside the block.
        if (!(err instanceof ValidationError)) throw err;
        throw new ValidationError(err.message, err.issues.map((x) => ({ ...x, path: ['virtualServices', i, ...x.path] })));
      }
    });
  return { files: [{ path: LVS_FILE, content: [...groups, ...services].join('\n') }] };
}
