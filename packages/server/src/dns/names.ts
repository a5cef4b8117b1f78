/**
 * How DNS names inside the zone map to discovery: a service path reversed into DNS order, the
 * RFC 2782 `_port._tcp.` prefix, and the `<hex>.addr.` names SRV targets point at.
 *
 *   web.ops.corp.svc.canopy            → service path corp.ops.web
 *   _http._tcp.web.ops.corp.svc.canopy → port `http` of corp.ops.web
 *   0a000001.addr.svc.canopy           → 10.0.0.1 (32 hex digits for IPv6), as Consul's addr names
 */
import { isIPv4, isIPv6 } from 'node:net';
import { isNodeName } from '@canopy/core';

/** What a question's name asks about. */
export type ParsedName =
  | { kind: 'outside' }
  | { kind: 'apex' }
  | { kind: 'service'; path: string }
  /** `_tcp.<service>`: exists (as an empty non-terminal) when the service does. */
  | { kind: 'proto'; path: string }
  | { kind: 'srv'; portName: string; path: string }
  | { kind: 'addr'; ip: string; path: string }
  | { kind: 'invalid' };

/** Lower-case, no trailing dot: the form names are compared in. */
export function canonicalName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

/** Whether `domain` is a usable zone suffix (dot-separated DNS labels). */
export function isZoneDomain(domain: string): boolean {
  const labels = domain.split('.');
  return domain.length <= 200 && labels.every((l) => /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(l));
}

/** Classify `name` (any case) against the zone `domain` (canonical). */
export function parseName(name: string, domain: string): ParsedName {
  const n = canonicalName(name);
  if (n === domain) return { kind: 'apex' };
  if (!n.endsWith(`.${domain}`)) return { kind: 'outside' };
  const labels = n.slice(0, -domain.length - 1).split('.');
  const first = labels[0] as string;
  if (first.startsWith('_')) {
    if (first === '_tcp') return pathOf(labels.slice(1), (path) => ({ kind: 'proto', path }));
    if (labels[1] !== '_tcp' || !/^_[a-z]([a-z0-9-]{0,13}[a-z0-9])?$/.test(first)) return { kind: 'invalid' };
    return pathOf(labels.slice(2), (path) => ({ kind: 'srv', portName: first.slice(1), path }));
  }
  return pathOf(labels, (path) => {
    const ip = labels.length === 2 && labels[1] === 'addr' ? ipOfHex(first) : undefined;
    return ip ? { kind: 'addr', ip, path } : { kind: 'service', path };
  });
}

function pathOf(dnsLabels: string[], make: (path: string) => ParsedName): ParsedName {
  if (dnsLabels.length === 0 || !dnsLabels.every(isNodeName)) return { kind: 'invalid' };
  return make([...dnsLabels].reverse().join('.'));
}

/** The DNS name of a service path (`corp.ops.web` → `web.ops.corp.svc.canopy`), with an optional `_port._tcp` prefix. */
export function dnsNameOf(path: string, domain: string, portName?: string): string {
  const name = `${path.split('.').reverse().join('.')}.${domain}`;
  return portName === undefined ? name : `_${portName}._tcp.${name}`;
}

/** The `<hex>.addr.<domain>` name an SRV record targets for `ip`. */
export function addrNameOf(ip: string, domain: string): string {
  return `${hexOfIp(ip)}.addr.${domain}`;
}

function hexOfIp(ip: string): string {
  if (isIPv4(ip)) return ip.split('.').map((o) => Number(o).toString(16).padStart(2, '0')).join('');
  return expandIPv6(ip).join('');
}

/** The eight 4-digit groups of an IPv6 address (an embedded IPv4 tail is converted). */
function expandIPv6(ip: string): string[] {
  let text = ip.toLowerCase();
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = (v4[1] as string).split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, -v4[1]!.length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? (text.split('::') as [string, string]) : [text, undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const middle = tail === undefined ? [] : new Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...middle, ...right].map((g) => g.padStart(4, '0'));
}

function ipOfHex(hex: string): string | undefined {
  if (/^[0-9a-f]{8}$/.test(hex)) return [0, 2, 4, 6].map((i) => parseInt(hex.slice(i, i + 2), 16)).join('.');
  if (/^[0-9a-f]{32}$/.test(hex)) return canonicalIp(hex.match(/.{4}/g)!.join(':'));
  return undefined;
}

/**
 * One spelling per address, so a machine's configured IP and a packet's source compare equal:
 * IPv6 compressed and lower-case (as the URL parser writes it), IPv4-mapped IPv6 as plain IPv4.
 */
export function canonicalIp(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1] as string;
  if (!isIPv6(ip)) return ip;
  return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
}
