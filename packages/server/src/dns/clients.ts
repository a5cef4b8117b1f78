/**
 * Which machine a DNS query comes from, by its source address: the zone-aware answer needs the
 * caller's zone, and a machine's zone is in the machines capability's in-memory index. That index
 * is keyed by id and hostname only, so this keeps an address → machine map beside it, built from
 * the index at start and kept current by the same `machine` change topic the index follows.
 */
import type { ChangeFeed } from '../changes/index.ts';
import { MACHINE_TOPIC, type MachineService } from '../machines/index.ts';
import { canonicalIp } from './names.ts';

interface Located {
  id: number;
  hostname: string;
  zone: string;
}

interface MachineFacts {
  id: number;
  hostname: string;
  zone: string;
  status: string;
  ips: string[];
}

export type ClientIndex = ReturnType<typeof createClientIndex>;

/** An address → machine index over `machines.model`, following the change feed. */
export function createClientIndex(deps: { machines: Pick<MachineService, 'model'>; feed: Pick<ChangeFeed, 'on'> }) {
  const byIp = new Map<string, Located>();
  const ipsOf = new Map<number, string[]>();

  function upsert(m: MachineFacts): void {
    for (const ip of ipsOf.get(m.id) ?? []) if (byIp.get(ip)?.id === m.id) byIp.delete(ip);
    // A retired machine's addresses are free for reuse; they no longer say where a query comes from.
    const ips = m.status === 'retired' ? [] : m.ips.map(canonicalIp);
    ipsOf.set(m.id, ips);
    for (const ip of ips) byIp.set(ip, { id: m.id, hostname: m.hostname, zone: m.zone });
  }

  deps.feed.on(MACHINE_TOPIC, (c) => {
    for (const m of (c.payload as { upsert?: MachineFacts[] }).upsert ?? []) upsert(m);
  });

  return {
    /** Rebuild from the machine index (after the read models have loaded). */
    load(): void {
      const model = deps.machines.model;
      byIp.clear();
      ipsOf.clear();
      for (const id of model.query({}, Math.max(1, model.size()), undefined).ids) {
        const m = model.get(id);
        if (m) upsert(m);
      }
    },

    /** The machine owning `address` (a packet's source), if any. */
    lookup(address: string): Located | undefined {
      return byIp.get(canonicalIp(address));
    },

    size: () => byIp.size,
  };
}
