/**
 * Questions to answers, from discovery's in-memory registry: no I/O, so the transport (server.ts)
 * stays a thin shell and every record rule lives here. See index.ts for the record semantics.
 */
import dnsPacket, { type Answer as Rr, type DecodedPacket, type Packet, type Question } from 'dns-packet';
import { isIPv4, isIPv6 } from 'node:net';
import type { Answer } from '@canopy/core';
import type { DiscoveryService } from '../discovery/index.ts';
import { addrNameOf, dnsNameOf, parseName, type ParsedName } from './names.ts';

/** DNS response codes (RFC 1035 §4.1.1). */
export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;

export interface ResponderDeps {
  discovery: Pick<DiscoveryService, 'resolve' | 'lookupAlias' | 'revision'>;
  /** Whether a tree node exists at a path (a name that exists without records answers NODATA). */
  nodeExists: (path: string) => boolean;
  /** The zone of the machine at a source address, if one is known. */
  zoneOf: (address: string) => string | undefined;
}

export interface ResponderOptions {
  /** The zone's suffix, canonical (`svc.canopy`). */
  domain: string;
  /** TTL of every record, and the negative-caching TTL. */
  ttl: number;
}

interface Result {
  rcode: number;
  answers: Rr[];
  additionals: Rr[];
  /** The last name of the answer has no record of the type asked: put the SOA in authority. */
  negative: boolean;
}

export type Responder = ReturnType<typeof createResponder>;

/** A responder for one zone. */
export function createResponder(deps: ResponderDeps, opts: ResponderOptions) {
  const { domain, ttl } = opts;
  let turn = 0;

  const soa = (): Rr => ({
    type: 'SOA',
    name: domain,
    ttl,
    data: { mname: `ns.${domain}`, rname: `hostmaster.${domain}`, serial: deps.discovery.revision() % 2 ** 32, refresh: 3600, retry: 600, expire: 86_400, minimum: ttl },
  });
  const empty = (rcode: number, answers: Rr[] = []): Result => ({ rcode, answers, additionals: [], negative: true });

  /** A/AAAA records for the distinct addresses of `instances`, rotated so clients that take the first spread out. */
  function addressRecords(name: string, type: 'A' | 'AAAA', instances: Answer['instances'], keepOrder: boolean): Rr[] {
    const fits = type === 'A' ? isIPv4 : isIPv6;
    const ips = [...new Set(instances.map((i) => i.ip).filter((ip) => fits(ip)))];
    return rotate(ips, keepOrder ? 0 : turn).map((ip) => ({ type, name, ttl, data: ip }));
  }

  function addrRecord(name: string, ip: string): Rr {
    return { type: isIPv4(ip) ? 'A' : 'AAAA', name, ttl, data: ip };
  }

  /** Records at a service's own name (or its `_port._tcp` name) once aliases are followed. */
  function recordsAt(answer: Answer, owner: string, qtype: string, portName: string | undefined): Omit<Result, 'rcode'> {
    if (portName !== undefined) {
      if (qtype !== 'SRV' && qtype !== 'ANY') return { answers: [], additionals: [], negative: true };
      const srv = answer.instances.filter((i) => i.portName === portName && i.ip !== '');
      const targets = new Map(srv.map((i) => [addrNameOf(i.ip, domain), i.ip]));
      const answers: Rr[] = rotate(srv, answer.zoneFallback ? 0 : turn).map((i) => ({
        type: 'SRV',
        name: owner,
        ttl,
        data: { priority: 0, weight: i.weight, port: i.port, target: addrNameOf(i.ip, domain) },
      }));
      return { answers, additionals: [...targets].map(([name, ip]) => addrRecord(name, ip)), negative: answers.length === 0 };
    }
    const types: ('A' | 'AAAA')[] = qtype === 'ANY' ? ['A', 'AAAA'] : qtype === 'A' || qtype === 'AAAA' ? [qtype] : [];
    const answers = types.flatMap((t) => addressRecords(owner, t, answer.instances, answer.zoneFallback));
    return { answers, additionals: [], negative: answers.length === 0 };
  }

  /** A service name or its `_port._tcp` name: CNAMEs along the alias chain, then the service's records. */
  function serviceLookup(qname: string, qtype: string, path: string, portName: string | undefined, zone: string | undefined): Result {
    const answer = deps.discovery.resolve(path, { zone, healthyOnly: true });
    if (!answer) return danglingLookup(qname, path, portName);
    const names = [...answer.aliasChain, answer.service].map((p, k) => (k === 0 ? qname : dnsNameOf(p, domain, portName)));
    const cnames: Rr[] = names.slice(1).map((target, k) => ({ type: 'CNAME', name: names[k] as string, ttl, data: target }));
    if (qtype === 'CNAME' && cnames.length > 0) return { rcode: RCODE.NOERROR, answers: cnames.slice(0, 1), additionals: [], negative: false };
    if (portName !== undefined && !answer.ports.some((p) => p.name === portName)) return empty(RCODE.NXDOMAIN, cnames);
    const at = recordsAt(answer, names[names.length - 1] as string, qtype, portName);
    return { rcode: RCODE.NOERROR, answers: [...cnames, ...at.answers], additionals: at.additionals, negative: at.negative };
  }

  /** A path that leads to no service: an alias whose chain dangles, a node that is not a service, or nothing. */
  function danglingLookup(qname: string, path: string, portName: string | undefined): Result {
    const cnames: Rr[] = [];
    let owner = qname;
    let cur = path;
    for (let hop = deps.discovery.lookupAlias(cur); hop?.target && cnames.length <= 8; hop = deps.discovery.lookupAlias(cur)) {
      const target = dnsNameOf(hop.target, domain, portName);
      cnames.push({ type: 'CNAME', name: owner, ttl, data: target });
      owner = target;
      cur = hop.target;
    }
    const exists = portName === undefined && deps.nodeExists(cur);
    return empty(exists ? RCODE.NOERROR : RCODE.NXDOMAIN, cnames);
  }

  function lookup(parsed: ParsedName, qname: string, qtype: string, zone: string | undefined): Result {
    switch (parsed.kind) {
      case 'apex':
        return qtype === 'SOA' || qtype === 'ANY' ? { rcode: RCODE.NOERROR, answers: [soa()], additionals: [], negative: false } : empty(RCODE.NOERROR);
      case 'service':
        return serviceLookup(qname, qtype, parsed.path, undefined, zone);
      case 'srv':
        return serviceLookup(qname, qtype, parsed.path, parsed.portName, zone);
      case 'proto':
        // `_tcp.<service>` exists only as the parent of its `_port._tcp` names.
        return empty(deps.discovery.resolve(parsed.path, { healthyOnly: false }) ? RCODE.NOERROR : RCODE.NXDOMAIN);
      case 'addr': {
        // A service or node that happens to be named like an address wins over the synthetic name.
        if (deps.discovery.resolve(parsed.path, { healthyOnly: false }) || deps.nodeExists(parsed.path)) return serviceLookup(qname, qtype, parsed.path, undefined, zone);
        const want = isIPv4(parsed.ip) ? 'A' : 'AAAA';
        if (qtype !== want && qtype !== 'ANY') return empty(RCODE.NOERROR);
        return { rcode: RCODE.NOERROR, answers: [addrRecord(qname, parsed.ip)], additionals: [], negative: false };
      }
      case 'invalid':
        return empty(RCODE.NXDOMAIN);
      case 'outside':
        return empty(RCODE.REFUSED);
    }
  }

  return {
    /** The response to `query` from `source` (the client's address), before any size limit. */
    respond(query: DecodedPacket, source: string): Packet {
      const flags = query.flags ?? 0;
      const rd = flags & dnsPacket.RECURSION_DESIRED;
      const reply = (rcode: number, questions: Question[], extra: Partial<Packet> = {}): Packet => ({
        type: 'response',
        id: query.id ?? 0,
        flags: rd | rcode,
        questions,
        ...extra,
      });
      const opcode = (flags >> 11) & 0xf;
      if (opcode !== 0) return reply(RCODE.NOTIMP, query.questions ?? []);
      const q = query.questions?.[0];
      if (!q || query.questions?.length !== 1) return reply(RCODE.FORMERR, query.questions ?? []);
      if (q.class !== 'IN' && q.class !== 'ANY') return reply(RCODE.REFUSED, [q]);
      const parsed = parseName(q.name, domain);
      if (parsed.kind === 'outside') return reply(RCODE.REFUSED, [q]);
      turn = (turn + 1) % 1_000_003;
      const zone = deps.zoneOf(source) || undefined;
      const r = lookup(parsed, q.name.replace(/\.$/, ''), q.type as string, zone);
      return reply(r.rcode, [q], {
        flags: rd | r.rcode | dnsPacket.AUTHORITATIVE_ANSWER,
        answers: r.answers,
        authorities: r.negative ? [soa()] : [],
        additionals: r.additionals,
      });
    },
  };
}

function rotate<T>(list: readonly T[], by: number): T[] {
  if (list.length < 2 || by === 0) return [...list];
  const k = by % list.length;
  return [...list.slice(k), ...list.slice(0, k)];
}
