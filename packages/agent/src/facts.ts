/** The machine's facts as the agent reads them: hostname, addresses, CPU, memory, disks, OS, serial. */
import { readFileSync, statfsSync } from 'node:fs';
import { cpus, hostname as osHostname, networkInterfaces, release, totalmem } from 'node:os';
import type { MachineFacts } from '@canopy/core';

const REAL_FS = new Set(['ext2', 'ext3', 'ext4', 'xfs', 'btrfs', 'zfs', 'f2fs', 'vfat', 'ntfs']);

function read(path: string): string | null {
  try {
    return readFileSync(path, 'utf8').trim() || null;
  } catch {
    return null;
  }
}

function osName(): string {
  const rel = read('/etc/os-release') ?? '';
  const pretty = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(rel);
  return pretty?.[1] ?? process.platform;
}

function disks(): MachineFacts['disks'] {
  const out: MachineFacts['disks'] = [];
  for (const line of (read('/proc/mounts') ?? '').split('\n')) {
    const [, mount, type] = line.split(' ');
    if (!mount || !type || !REAL_FS.has(type) || out.some((d) => d.mount === mount)) continue;
    try {
      const s = statfsSync(mount);
      out.push({ mount, sizeBytes: s.blocks * s.bsize });
    } catch {
      // Unreadable mount point: leave it out.
    }
  }
  return out;
}

function bootedAt(): string | null {
  const stat = read('/proc/stat');
  const btime = stat && /^btime (\d+)$/m.exec(stat)?.[1];
  return btime ? new Date(Number(btime) * 1000).toISOString() : null;
}

/** Where facts come from, besides the OS. */
export interface FactsOptions {
  /** A file holding the boot id instead of the kernel's (test hosts share one kernel). */
  bootIdFile?: string | undefined;
}

/** The boot id: the kernel's, or the override file's; it changes on every boot, so a reboot is seen. */
export function readBootId(opts: FactsOptions = {}): string | null {
  return read(opts.bootIdFile ?? '/proc/sys/kernel/random/boot_id');
}

/** Read the facts now; `hostname` overrides the OS hostname (test hosts, renamed machines). */
export function readFacts(hostname?: string, opts: FactsOptions = {}): MachineFacts {
  const ifaces = Object.entries(networkInterfaces());
  const addrs = ifaces.flatMap(([, list]) => list ?? []).filter((a) => !a.internal);
  return {
    hostname: hostname ?? osHostname().toLowerCase(),
    ips: [...new Set(addrs.map((a) => a.address))],
    cpus: cpus().length,
    memoryBytes: totalmem(),
    disks: disks(),
    os: osName(),
    kernel: release(),
    serial: read('/sys/class/dmi/id/product_serial'),
    macs: [...new Set(addrs.map((a) => a.mac).filter((m) => m !== '00:00:00:00:00:00'))],
    bootId: readBootId(opts),
    bootedAt: bootedAt(),
  };
}
