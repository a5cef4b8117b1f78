/**
 * ENC resolution: which classes, parameters and environment a host gets.
 *
 * 1. The host's nodes in the tree. When every node has the same effective class set (names and
 *    parameter values) and the same environment, the host gets them; otherwise it gets the default
 *    class set in the default environment, because mixing two services' classes on one machine is
 *    the seed's conflict case. Top-scope parameters are kept only when every node has the same
 *    value for them; the rest are dropped (and named in `explain`), in both cases.
 * 2. A host in no node (being installed): the node its provisioning request named.
 * 3. Neither: NotFoundError, so the ENC exits non-zero and Puppet refuses to compile.
 */
import { encValuesEqual, NotFoundError } from '@canopy/core';
import type { EffectiveConfig, EncClasses, EncDefaults, EncResult, EncValue, ExplainEntry } from '@canopy/core';

/** The plain data resolution needs; the service gathers it from the tree, machines and provisioning. */
export interface ResolveInput {
  hostname: string;
  /** The machine record, when Canopy knows the machine; its placement becomes top-scope facts. */
  machine?: { zone?: string | null | undefined; idc?: string | null | undefined } | null | undefined;
  /** The nodes the machine is attached to, each with its effective configuration. */
  nodes: readonly { path: string; effective: EffectiveConfig }[];
  /** The node a pending provisioning request names for this host, if any. */
  provisioning?: { nodePath: string; effective: EffectiveConfig } | null | undefined;
  defaults: EncDefaults;
}

/** Resolve the ENC answer for one host; throws NotFoundError when neither tree nor provisioning knows it. */
export function resolveEnc(input: ResolveInput): EncResult {
  const nodes = uniqueByPath(input.nodes);
  if (nodes.length > 0) return fromTree(input, nodes);
  if (input.provisioning) {
    const { nodePath, effective } = input.provisioning;
    const decision = `${input.hostname} is not in the service tree yet; its provisioning request names ${nodePath}`;
    return assemble(input, 'provisioning', 'provisioning', [{ path: nodePath, effective }], true, decision);
  }
  throw new NotFoundError('machine', input.hostname);
}

type Node = { path: string; effective: EffectiveConfig };

function fromTree(input: ResolveInput, nodes: Node[]): EncResult {
  const first = nodes[0]!.effective;
  const agree = nodes.every(
    (n) => classesEqual(n.effective.classes, first.classes) && n.effective.environment === first.environment,
  );
  if (nodes.length === 1) {
    return assemble(input, 'tree', 'single-node', nodes, true, `${input.hostname} is in one node: ${nodes[0]!.path}`);
  }
  const list = nodes.map((n) => n.path).join(', ');
  if (agree) {
    return assemble(input, 'tree', 'nodes-agree', nodes, true, `${input.hostname} is in ${nodes.length} nodes (${list}) with the same classes`);
  }
  const decision = `${input.hostname} is in ${nodes.length} nodes (${list}) that disagree, so it gets the default classes: ${describeDisagreement(nodes)}`;
  return assemble(input, 'tree', 'nodes-differ', nodes, false, decision);
}

function assemble(
  input: ResolveInput,
  source: EncResult['source'],
  reason: EncResult['reason'],
  nodes: Node[],
  agree: boolean,
  decision: string,
): EncResult {
  const explain: ExplainEntry[] = [{ subject: 'decision', name: reason, origin: agree ? 'node' : 'defaults', sources: [], message: decision }];
  const first = nodes[0]!.effective;
  const classes = agree ? first.classes : input.defaults.classes;
  for (const name of Object.keys(classes).sort()) {
    explain.push(
      agree
        ? { subject: 'class', name, origin: 'node', sources: nodes.map((n) => ({ node: n.path, setOn: n.effective.classesFrom })), message: `set on ${setOnList(nodes, (e) => e.classesFrom)}` }
        : { subject: 'class', name, origin: 'defaults', sources: [], message: 'from the default class set' },
    );
  }
  const environment = agree ? first.environment : input.defaults.environment;
  explain.push(environmentEntry(nodes, agree, environment));

  const parameters: Record<string, EncValue> = canopyParams(input, nodes);
  for (const name of Object.keys(parameters)) {
    explain.push({ subject: 'parameter', name, origin: 'canopy', sources: [], message: 'set by Canopy' });
  }
  for (const name of [...new Set(nodes.flatMap((n) => Object.keys(n.effective.parameters)))].sort()) {
    const values = nodes.map((n) => n.effective.parameters[name]);
    const sources = nodes.flatMap((n) => {
      const p = n.effective.parameters[name];
      return p ? [{ node: n.path, setOn: p.from }] : [];
    });
    const v0 = values[0];
    if (v0 !== undefined && values.every((v) => v !== undefined && encValuesEqual(v.value, v0.value))) {
      parameters[name] = v0.value;
      explain.push({ subject: 'parameter', name, origin: 'node', sources, message: `set on ${setOnList(nodes, (e) => e.parameters[name]?.from ?? null)}` });
    } else {
      const detail = nodes.map((n) => `${n.path}: ${n.effective.parameters[name] ? JSON.stringify(n.effective.parameters[name].value) : 'unset'}`);
      explain.push({ subject: 'parameter', name, origin: 'dropped', sources, message: `left out: the nodes disagree (${detail.join('; ')})` });
    }
  }
  return { hostname: input.hostname, source, reason, nodes: nodes.map((n) => n.path), classes, parameters, environment, explain };
}

function environmentEntry(nodes: Node[], agree: boolean, environment: string): ExplainEntry {
  if (!agree) return { subject: 'environment', name: environment, origin: 'defaults', sources: [], message: 'the default environment' };
  const setOn = nodes.flatMap((n) => (n.effective.environmentFrom ? [{ node: n.path, setOn: n.effective.environmentFrom }] : []));
  if (setOn.length === 0) return { subject: 'environment', name: environment, origin: 'builtin', sources: [], message: 'no node sets one: Puppet\'s default' };
  return { subject: 'environment', name: environment, origin: 'node', sources: setOn, message: `set on ${setOnList(nodes, (e) => e.environmentFrom)}` };
}

// Facts about the machine's place, readable in Puppet code as $canopy_node, $canopy_zone, $canopy_idc.
function canopyParams(input: ResolveInput, nodes: Node[]): Record<string, EncValue> {
  const out: Record<string, EncValue> = {};
  out['canopy_node'] = nodes.length === 1 ? nodes[0]!.path : nodes.map((n) => n.path);
  if (input.machine?.zone) out['canopy_zone'] = input.machine.zone;
  if (input.machine?.idc) out['canopy_idc'] = input.machine.idc;
  return out;
}

/** True when two class sets have the same classes with structurally equal parameters. */
export function classesEqual(a: EncClasses, b: EncClasses): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => Object.hasOwn(b, k) && encValuesEqual(a[k]!, b[k]!));
}

function uniqueByPath(nodes: readonly Node[]): Node[] {
  const byPath = new Map<string, Node>();
  for (const n of nodes) byPath.set(n.path, n);
  return [...byPath.values()].sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
}

function setOnList(nodes: Node[], from: (e: EffectiveConfig) => string | null): string {
  const set = [...new Set(nodes.map((n) => from(n.effective)).filter((s): s is string => s !== null))];
  return set.length > 0 ? set.join(', ') : '(none)';
}

// Say what differs, in the terms an operator would fix: class names, then parameters, then environment.
function describeDisagreement(nodes: Node[]): string {
  const names = (n: Node) => Object.keys(n.effective.classes).sort().join(', ') || 'no classes';
  const first = nodes[0]!.effective;
  if (nodes.some((n) => names(n) !== names(nodes[0]!))) {
    return `classes differ: ${nodes.map((n) => `${n.path}: ${names(n)}`).join('; ')}`;
  }
  const differing = Object.keys(first.classes)
    .filter((c) => nodes.some((n) => !encValuesEqual(n.effective.classes[c]!, first.classes[c]!)))
    .sort();
  if (differing.length > 0) return `parameters of ${differing.join(', ')} differ`;
  return `environments differ: ${nodes.map((n) => `${n.path}: ${n.effective.environment}`).join('; ')}`;
}
