/**
 * Strict grammars for every string that lands in a generated Nginx or keepalived config. They are
 * deliberately narrower than what the programs accept: a value that passes cannot open a block,
 * end a directive, start a comment or pull in a variable it was not meant to.
 */
import { z } from 'zod';
import { HOSTNAME_RE, NODE_PATH_RE } from '../names.ts';

/** A lower-case RFC 1123 domain name, as nginx's `server_name` will carry it. */
export const DOMAIN_RE = HOSTNAME_RE;

/**
 * A prefix-location URI: starts with `/`, RFC 3986 path characters only (no `%`, `?`, `#`, `$`,
 * quotes, braces, `;`, spaces or controls) and no `//`; `locationUriSchema` also refuses `.` and
 * `..` segments. nginx normalises those away before matching, so such a location could never match.
 */
export const LOCATION_URI_RE = /^\/(?:[A-Za-z0-9._~!&'()*+,=:@-]+\/)*[A-Za-z0-9._~!&'()*+,=:@-]*$/;

/** An upstream name, e.g. `corp_pay_api`; lower-case because nginx compares them case-blind. */
export const UPSTREAM_NAME_RE = /^[a-z0-9][a-z0-9_-]{0,252}$/;

/**
 * A log file name inside the cluster's log directory: no directories and no dot-files, because
 * the nginx master opens log files as root and an arbitrary path would let a user append to any file.
 */
export const LOG_FILE_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/;

/** An absolute certificate or key path without dot segments, e.g. `/etc/nginx/ssl/a.com.pem`. */
export const CERT_PATH_RE = /^(?:\/[A-Za-z0-9_-][A-Za-z0-9._-]{0,254}){1,32}$/;

/** An HTTP header name; `_` is excluded because nginx drops such headers by default. */
export const HEADER_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9-]{0,63}$/;

/** Nginx variables a header value or hash key may use. Unknown variables would fail `nginx -t`. */
export const NGINX_VARIABLES = [
  'remote_addr', 'remote_port', 'binary_remote_addr', 'host', 'hostname', 'scheme', 'request_uri',
  'uri', 'document_uri', 'args', 'query_string', 'is_args', 'request_method', 'request_id',
  'server_name', 'server_port', 'server_addr', 'proxy_add_x_forwarded_for', 'proxy_host',
  'proxy_port', 'ssl_protocol', 'ssl_cipher', 'ssl_server_name', 'content_type',
  'content_length', 'https', 'msec', 'time_iso8601',
] as const;

// A variable must not run into a following name character: `$hostx` is the unknown `$hostx`.
const VAR = `\\$(?:${[...NGINX_VARIABLES].sort((a, b) => b.length - a.length).join('|')}|(?:http|cookie|arg)_[a-z0-9_]{1,64})(?![A-Za-z0-9_])`;

/** A header value: printable ASCII without `"`, `\`, `;`, braces, and `$` only before a known variable. */
export const HEADER_VALUE_RE = new RegExp(`^(?:[ !#%&'()*+,\\-./0-9:<=>?@A-Z\\[\\]^_\`a-z|~]|${VAR})*$`);

/** A hash key: one or more known variables, e.g. `$remote_addr` or `$host$request_uri`. */
export const HASH_KEY_RE = new RegExp(`^(?:${VAR})+$`);

/** An nginx time: a number with an optional unit, e.g. `500ms`, `30s`, `5m`. */
export const DURATION_RE = /^[0-9]{1,6}(?:ms|s|m|h|d)?$/;

/** An nginx time in whole seconds or more (`fail_timeout` refuses `ms`). */
export const SECONDS_RE = /^[0-9]{1,6}(?:s|m|h|d)?$/;

/** An nginx size: a number with an optional `k`, `m` or `g` suffix. */
export const SIZE_RE = /^[0-9]{1,9}[kKmMgG]?$/;

/** A keepalived identifier such as a local-address group name. */
export const KEEPALIVED_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** An HTTP health-check path; `#`, `!`, `$`, `@` and `~` mean something to keepalived's parser. */
export const CHECK_PATH_RE = /^\/[A-Za-z0-9._/-]{0,255}(?:\?[A-Za-z0-9._=&-]{0,255})?$/;

/** `corp.pay.api` → `corp_pay_api`: the upstream name used when a service names none. */
export function defaultUpstreamName(servicePath: string): string {
  return servicePath.replaceAll('.', '_');
}

/** `a.com` → `a.com_access.log`. */
export function defaultAccessLog(domain: string): string {
  return `${domain}_access.log`;
}

/** `a.com` → `a.com_error.log`. */
export function defaultErrorLog(domain: string): string {
  return `${domain}_error.log`;
}

// Zod schemas for the grammars above; each message says what is allowed.

/** A domain name (see DOMAIN_RE). */
export const domainNameSchema = z.string().max(253).regex(DOMAIN_RE, 'must be a lower-case domain name');
/** A prefix-location URI (see LOCATION_URI_RE). */
export const locationUriSchema = z
  .string()
  .max(1024)
  .regex(LOCATION_URI_RE, "must start with '/' and use only RFC 3986 path characters, without '//', '/./' or '/../'")
  .refine((u) => !/(?:^|\/)\.{1,2}(?:\/|$)/.test(u), "must not contain '.' or '..' segments");
/** An upstream name (see UPSTREAM_NAME_RE). */
export const upstreamNameSchema = z.string().regex(UPSTREAM_NAME_RE, 'must be lower-case letters, digits, _ or - (at most 253)');
/** A log file name inside the cluster's log directory. */
export const logFileSchema = z
  .string()
  .regex(LOG_FILE_RE, 'must be a file name (letters, digits, . _ -), relative to the log directory');
/** An absolute certificate or key path. */
export const certPathSchema = z
  .string()
  .max(1024)
  .regex(CERT_PATH_RE, 'must be an absolute path of segments of letters, digits, . _ - (not starting with .)');
/** An HTTP header name. */
export const headerNameSchema = z.string().regex(HEADER_NAME_RE, 'must be letters, digits and - (at most 64)');
/** A header value that may use known nginx variables. */
export const headerValueSchema = z
  .string()
  .max(512)
  .regex(HEADER_VALUE_RE, 'printable ASCII without " \\ ; { }, and $ only before a known nginx variable');
/** The key of `hash … [consistent]`. */
export const hashKeySchema = z.string().max(256).regex(HASH_KEY_RE, 'must be one or more known nginx variables');
/** An nginx time that may be in milliseconds. */
export const durationSchema = z.string().regex(DURATION_RE, 'must be a number with an optional ms, s, m, h or d unit');
/** An nginx time of whole seconds or more. */
export const secondsSchema = z.string().regex(SECONDS_RE, 'must be a number with an optional s, m, h or d unit');
/** An nginx size. */
export const sizeSchema = z.string().regex(SIZE_RE, 'must be a number with an optional k, m or g suffix');
/** A TCP/UDP port. */
export const portSchema = z.int().min(1).max(65535);
/** An IPv4 or IPv6 literal. */
export const ipAddressSchema = z.union([z.ipv4(), z.ipv6()]);
/** A service node path. */
export const servicePathSchema = z.string().max(253).regex(NODE_PATH_RE, 'must be a dotted node path');
/** A keepalived identifier. */
export const keepalivedNameSchema = z.string().regex(KEEPALIVED_NAME_RE, 'must be letters, digits, _ or - (at most 64)');
/** An HTTP_GET health-check path. */
export const checkPathSchema = z.string().regex(CHECK_PATH_RE, "must be a path of letters, digits, . _ / - with an optional simple query");
