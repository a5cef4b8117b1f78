/**
 * DNS leg of the discovery benchmark: dnsperf against Canopy's DNS server (packages/server/src/dns,
 * started by the composition root when `ServiceOptions.dns` is set), answering A queries for
 * services of the seeded registry and SRV queries (with EDNS, as SRV answers with their addresses
 * exceed 512 bytes). There is no etcd column: etcd has no DNS front end of its own (CoreDNS's etcd
 * plugin would be the usual one, and Debian 12 does not package CoreDNS).
 */
import { Resolver } from 'node:dns/promises';
import type { Services } from '../packages/server/src/services.ts';
import { have, runDnsperf } from './discovery-peers.ts';

const DOMAIN = 'svc.canopy';

/** `corp.d042.s017` → `s017.d042.corp.svc.canopy` (the path reversed, as DNS names read). */
const dnsName = (path: string) => `${path.split('.').reverse().join('.')}.${DOMAIN}`;

/** dnsperf rows (or a note saying why there are none). */
export async function dnsBench(services: Services, o: { seconds: number; paths: string[] }): Promise<{ rows: [string, string, string][]; notes: string[] }> {
  const dns = services.dns;
  if (!dns) return { rows: [], notes: ['TODO(dns): the DNS server was not started (services.dns is unset); DNS queries/s not measured.'] };
  if (!have('dnsperf')) return { rows: [], notes: ['dnsperf not installed (apt-get install dnsperf): DNS queries/s not measured.'] };
  const port = dns.port();
  const r = new Resolver();
  r.setServers([`127.0.0.1:${port}`]);
  const sample = await r.resolve4(dnsName(o.paths[4242] as string));
  if (sample.length !== 10) throw new Error(`DNS: expected 10 addresses, got ${sample.length}`);

  const a = await runDnsperf(port, o.paths.map((p) => `${dnsName(p)} A`), { seconds: o.seconds, clients: 4, outstanding: 200, edns: false });
  const srv = await runDnsperf(port, o.paths.map((p) => `_http._tcp.${dnsName(p)} SRV`), { seconds: o.seconds, clients: 4, outstanding: 200, edns: true });
  const cell = (x: typeof a) => `${x.qps.toFixed(0)} q/s, avg ${x.avgMs.toFixed(2)} ms, lost ${x.lost}`;
  return {
    rows: [
      ['DNS A (10 addresses), dnsperf 4 clients × 200 outstanding, UDP', cell(a), 'n/a (no DNS in etcd)'],
      ['DNS SRV + additional A (10 each, EDNS), same load', cell(srv), 'n/a'],
    ],
    notes: [`DNS: ${o.paths.length.toLocaleString('en')} distinct names queried in a loop; the server answers from the in-memory registry on Canopy's event loop (same process as the HTTP API).`],
  };
}
