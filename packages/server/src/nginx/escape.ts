/**
 * Render-time escaping for nginx. The API already validated every string against a strict
 * grammar; these checks are the second line: whatever slips through still cannot leave its
 * quoted string, and a bare token is only written when it matches its own small grammar.
 */
import { isIP } from 'node:net';
import { UPSTREAM_NAME_RE, ValidationError, isHostname } from '@canopy/core';

// Control characters would end a line; nothing else can escape a double-quoted nginx string
// once `"` and `\` are escaped.
const CONTROL = /[\x00-\x1f\x7f]/;
const QUOTE_OR_BACKSLASH = /["\\]/g;
const VARIABLE_NAME = /^[a-z_][a-z0-9_]*$/;

/** Throws the ValidationError for a value that cannot be rendered. */
export function refuse(field: string, message: string): never {
  const path = field.split('.').map((p) => (/^\d+$/.test(p) ? Number(p) : p));
  throw new ValidationError(`cannot render ${field}: ${message}`, [{ path, message }]);
}

/** A double-quoted nginx string that nginx reads back as exactly `s`, with no variables expanded. */
export function quoteLiteral(s: string, field: string): string {
  if (CONTROL.test(s)) refuse(field, 'contains a control character');
  if (s.includes('$')) refuse(field, "contains '$', which nginx would read as a variable");
  return `"${s.replace(QUOTE_OR_BACKSLASH, '\\$&')}"`;
}

/** A double-quoted nginx string in which `$name` variables are meant to be expanded. */
export function quoteValue(s: string, field: string): string {
  if (CONTROL.test(s)) refuse(field, 'contains a control character');
  for (let i = s.indexOf('$'); i >= 0; i = s.indexOf('$', i + 1)) {
    const name = /^[A-Za-z0-9_]*/.exec(s.slice(i + 1))?.[0] ?? '';
    if (!VARIABLE_NAME.test(name)) refuse(field, "'$' must start a lower-case variable name");
  }
  return `"${s.replace(QUOTE_OR_BACKSLASH, '\\$&')}"`;
}

/** An upstream name as a bare token (it also appears inside `proxy_pass http://…`). */
export function upstreamToken(name: string, field: string): string {
  if (!UPSTREAM_NAME_RE.test(name)) refuse(field, `upstream name '${name}' must be lower-case letters, digits, _ or -`);
  return name;
}

/** A domain name, checked and quoted for `server_name`. */
export function serverNameToken(domain: string, field: string): string {
  if (!isHostname(domain)) refuse(field, `'${domain}' is not a lower-case domain name`);
  return quoteLiteral(domain, field);
}

/**
 * An IP literal in canonical form. Node accepts IPv6 spellings nginx refuses (`0:0:0:0:0:0:0::`),
 * so IPv6 goes through the WHATWG URL parser, which writes RFC 5952 text.
 */
export function canonicalIp(address: string, field: string): string {
  const family = isIP(address);
  if (family === 4) return address;
  if (family === 6) {
    try {
      return new URL(`http://[${address}]/`).hostname.slice(1, -1);
    } catch {
      // zone ids and the like: fall through to the refusal
    }
  }
  return refuse(field, `'${address}' is not an IP address`);
}

/** `host:port` for a `server` line; IPv6 in brackets. Host names are refused. */
export function addressToken(address: string, port: number, field: string): string {
  const ip = canonicalIp(address, field);
  return ip.includes(':') ? `[${ip}]:${portToken(port, field)}` : `${ip}:${portToken(port, field)}`;
}

/** A TCP port as a token. */
export function portToken(port: number, field: string): string {
  if (!Number.isInteger(port) || port < 1 || port > 65535) refuse(field, `port ${port} is not in 1…65535`);
  return String(port);
}

/** A positive integer within bounds, as a token. */
export function intToken(n: number, min: number, max: number, field: string): string {
  if (!Number.isInteger(n) || n < min || n > max) refuse(field, `${n} is not an integer in ${min}…${max}`);
  return String(n);
}

/** A bare token that must match `re` (durations, sizes, keywords). */
export function token(s: string, re: RegExp, field: string): string {
  if (!re.test(s)) refuse(field, `'${s}' is not allowed here`);
  return s;
}

/** A listen address: IPv4 literal or bracketed IPv6 literal. */
export function listenAddressToken(address: string): string {
  const bare = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  const family = isIP(bare);
  if (family === 0 || (family === 6 && bare === address)) refuse('listenAddress', `'${address}' must be an IPv4 or [IPv6] literal`);
  return address;
}

/** Code-unit order, so output never depends on the locale. */
export function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
