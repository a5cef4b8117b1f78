/**
 * Who may claim an open install request. A request hands the machine that takes it the node's
 * logins, classes and deployments, so a machine that merely has the requested host name proves
 * nothing: anyone with machine.write anywhere can create `pay-api-11`. A request binds a machine
 *
 * - created (or, for a machine that already exists, requested) by someone holding machine.write on
 *   the request's node — the request's own owners vouch for it;
 * - or whose facts match what the request names: its serial number and/or a MAC address (all that
 *   is named must match; a request naming neither is claimable only the first way);
 * - or that the enrollment of its agent verified (an enrollment token issued for the request): the
 *   agent enrollment calls `provisioning.bindVerified(hostname, 'enrollment-token')` once it has
 *   checked the token, and that is the whole seam.
 */

/** What a request names to recognise its machine. */
export interface Wanted {
  serial: string;
  mac: string;
}

/** What a machine says about itself. */
export interface Candidate {
  serial: string;
  facts: Record<string, unknown>;
}

/** How a bind was justified, as audited and shown on the machine. */
export type ClaimVia = 'owner' | 'serial' | 'mac' | 'serial+mac' | 'enrollment-token';

/** `aa:bb:…` in lower case with colons, or '' when `v` is not a MAC address. */
export function normalizeMac(v: unknown): string {
  if (typeof v !== 'string') return '';
  const m = v.trim().toLowerCase().replaceAll('-', ':');
  return /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(m) ? m : '';
}

/** Every MAC address in a machine's facts, in the shapes Facter and the agent report them. */
export function macsOf(facts: Record<string, unknown>): Set<string> {
  const out = new Set<string>();
  const add = (v: unknown) => {
    const m = normalizeMac(v);
    if (m) out.add(m);
  };
  add(facts['macaddress']);
  for (const key of ['macs', 'macaddresses']) {
    const list = facts[key];
    if (Array.isArray(list)) list.forEach(add);
  }
  const networking = facts['networking'];
  if (networking && typeof networking === 'object') {
    const n = networking as Record<string, unknown>;
    add(n['mac']);
    const interfaces = n['interfaces'];
    if (interfaces && typeof interfaces === 'object') for (const i of Object.values(interfaces as Record<string, unknown>)) if (i && typeof i === 'object') add((i as Record<string, unknown>)['mac']);
  }
  return out;
}

/** The machine's serial number: the field, else Facter's `serialnumber` or `dmi.product.serial_number`. */
function serialOf(c: Candidate): string {
  if (c.serial) return c.serial;
  const facter = c.facts['serialnumber'];
  if (typeof facter === 'string') return facter;
  const dmi = c.facts['dmi'] as { product?: { serial_number?: unknown } } | undefined;
  return typeof dmi?.product?.serial_number === 'string' ? dmi.product.serial_number : '';
}

/** Whether the machine matches everything the request names; undefined when it names nothing or something differs. */
export function proofOf(wanted: Wanted, c: Candidate): ClaimVia | undefined {
  if (!wanted.serial && !wanted.mac) return undefined;
  if (wanted.serial && serialOf(c).trim() !== wanted.serial.trim()) return undefined;
  if (wanted.mac && !macsOf(c.facts).has(wanted.mac)) return undefined;
  return wanted.serial && wanted.mac ? 'serial+mac' : wanted.serial ? 'serial' : 'mac';
}
