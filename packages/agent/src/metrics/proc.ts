/**
 * Machine metrics from /proc and statfs(2), with node_exporter's names and labels, so dashboards,
 * alert rules and a Prometheus that also scrapes node_exporter see the same series. Each reader
 * is independent: a file this kernel lacks (or a namespace hides) drops its family, not the rest.
 */
import { readdirSync, readFileSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import type { ExpositionFamily, ProcessLive } from '@canopy/core';

/** USER_HZ: /proc/stat counts in 1/100 s on every Linux architecture that matters. */
const USER_HZ = 100;
const CPU_MODES = ['user', 'nice', 'system', 'idle', 'iowait', 'irq', 'softirq', 'steal'];
// node_exporter's defaults for the filesystem collector (--collector.filesystem.*-exclude).
const FS_TYPES_EXCLUDE = /^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|erofs|sysfs|tracefs|nfs4?|cifs|fuse\..*)$/;
const MOUNTS_EXCLUDE = /^\/(dev|proc|run\/credentials\/.+|sys|var\/lib\/docker\/.+|var\/lib\/containers\/storage\/.+)($|\/)/;
// node_exporter's diskstats default: whole devices only (partitions, loop and ram disks left out).
const DISKS_EXCLUDE = /^(z?ram|loop|fd|(h|s|v|xv)d[a-z]+\d+|nvme\d+n\d+p\d+|dm-\d+|sr\d+)$/;
const TCP_STATES = ['', 'established', 'syn_sent', 'syn_recv', 'fin_wait1', 'fin_wait2', 'time_wait', 'close', 'close_wait', 'last_ack', 'listen', 'closing'];

type Family = ExpositionFamily;
const fam = (name: string, type: Family['type'], help: string): Family => ({ name, type, help, samples: [] });

function read(root: string, path: string): string | undefined {
  try {
    return readFileSync(join(root, path), 'utf8');
  } catch {
    return undefined;
  }
}

function cpu(root: string): Family[] {
  const text = read(root, 'stat');
  if (!text) return [];
  const secs = fam('node_cpu_seconds_total', 'counter', 'Seconds the CPUs spent in each mode.');
  const extra: Family[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(/\s+/);
    if (/^cpu\d+$/.test(f[0] ?? '')) CPU_MODES.forEach((mode, i) => secs.samples.push({ labels: { cpu: (f[0] as string).slice(3), mode }, value: Number(f[i + 1] ?? 0) / USER_HZ }));
    else if (f[0] === 'procs_running' || f[0] === 'procs_blocked') extra.push({ ...fam(`node_${f[0]}`, 'gauge', `Number of processes ${f[0].slice(6)}.`), samples: [{ labels: {}, value: Number(f[1]) }] });
    else if (f[0] === 'ctxt') extra.push({ ...fam('node_context_switches_total', 'counter', 'Total number of context switches.'), samples: [{ labels: {}, value: Number(f[1]) }] });
  }
  return [secs, ...extra];
}

function load(root: string): Family[] {
  const f = read(root, 'loadavg')?.trim().split(/\s+/);
  if (!f || f.length < 3) return [];
  return ['1', '5', '15'].map((n, i) => ({ ...fam(`node_load${n}`, 'gauge', `${n}m load average.`), samples: [{ labels: {}, value: Number(f[i]) }] }));
}

function memory(root: string): Family[] {
  const text = read(root, 'meminfo');
  if (!text) return [];
  const out: Family[] = [];
  for (const line of text.split('\n')) {
    const m = /^(MemTotal|MemFree|MemAvailable|Buffers|Cached|SwapTotal|SwapFree|SwapCached|Dirty|Shmem|Slab):\s+(\d+)(\s+kB)?/.exec(line);
    if (m) out.push({ ...fam(`node_memory_${m[1]}_bytes`, 'gauge', `Memory information field ${m[1]}_bytes.`), samples: [{ labels: {}, value: Number(m[2]) * (m[3] ? 1024 : 1) }] });
  }
  return out;
}

function filesystems(root: string): Family[] {
  const text = read(root, 'mounts');
  if (!text) return [];
  const names = ['size_bytes', 'free_bytes', 'avail_bytes', 'files', 'files_free'] as const;
  const fams = names.map((n) => fam(`node_filesystem_${n}`, 'gauge', `Filesystem ${n.replace('_', ' ')}.`));
  const seen = new Set<string>();
  for (const line of text.split('\n')) {
    const [device, rawMount, fstype] = line.split(' ');
    if (!device || !rawMount || !fstype || FS_TYPES_EXCLUDE.test(fstype)) continue;
    const mountpoint = rawMount.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (MOUNTS_EXCLUDE.test(mountpoint) || seen.has(mountpoint)) continue;
    seen.add(mountpoint);
    let st;
    try {
      st = statfsSync(mountpoint);
    } catch {
      continue;
    }
    const labels = { device, fstype, mountpoint };
    const values = [st.blocks * st.bsize, st.bfree * st.bsize, st.bavail * st.bsize, st.files, st.ffree];
    values.forEach((value, i) => fams[i]!.samples.push({ labels, value }));
  }
  return fams;
}

function disks(root: string): Family[] {
  const text = read(root, 'diskstats');
  if (!text) return [];
  const spec: [string, string, number, number][] = [
    ['node_disk_reads_completed_total', 'Reads completed.', 3, 1],
    ['node_disk_read_bytes_total', 'Bytes read.', 5, 512],
    ['node_disk_writes_completed_total', 'Writes completed.', 7, 1],
    ['node_disk_written_bytes_total', 'Bytes written.', 9, 512],
    ['node_disk_io_time_seconds_total', 'Seconds spent doing I/Os.', 12, 0.001],
  ];
  const fams = spec.map(([n, h]) => fam(n, 'counter', h));
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    const device = f[2];
    if (!device || f.length < 14 || DISKS_EXCLUDE.test(device)) continue;
    spec.forEach(([, , col, mul], i) => fams[i]!.samples.push({ labels: { device }, value: Number(f[col]) * mul }));
  }
  return fams;
}

function network(root: string): Family[] {
  const text = read(root, 'net/dev');
  if (!text) return [];
  const cols: [string, number][] = [['receive_bytes', 0], ['receive_packets', 1], ['receive_errs', 2], ['receive_drop', 3], ['transmit_bytes', 8], ['transmit_packets', 9], ['transmit_errs', 10], ['transmit_drop', 11]];
  const fams = cols.map(([n]) => fam(`node_network_${n}_total`, 'counter', `Network device statistic ${n}.`));
  for (const line of text.split('\n').slice(2)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const device = line.slice(0, colon).trim();
    const f = line.slice(colon + 1).trim().split(/\s+/);
    cols.forEach(([, i], k) => fams[k]!.samples.push({ labels: { device }, value: Number(f[i]) }));
  }
  return fams;
}

/** TCP sockets by state, and the ports in LISTEN (collect rules use them). */
export function tcpSockets(root: string): { states: number[]; listening: Set<number> } {
  const states = new Array<number>(TCP_STATES.length).fill(0);
  const listening = new Set<number>();
  for (const file of ['net/tcp', 'net/tcp6']) {
    const text = read(root, file);
    if (!text) continue;
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 4) continue;
      const st = parseInt(f[3] as string, 16);
      if (st > 0 && st < states.length) states[st]!++;
      if (st === 10) listening.add(parseInt((f[1] as string).split(':')[1] ?? '0', 16));
    }
  }
  return { states, listening };
}

function tcp(root: string): Family[] {
  const { states } = tcpSockets(root);
  const f = fam('node_tcp_connection_states', 'gauge', 'Number of TCP sockets by state.');
  TCP_STATES.forEach((state, i) => state && f.samples.push({ labels: { state }, value: states[i] as number }));
  return [f];
}

function processes(root: string): Family[] {
  let n = 0;
  try {
    for (const e of readdirSync(root)) if (/^\d+$/.test(e)) n++;
  } catch {
    return [];
  }
  return [{ ...fam('node_processes_pids', 'gauge', 'Number of PIDs.'), samples: [{ labels: {}, value: n }] }];
}

/**
 * Per supervised process (labelled by its service's node path): up, restarts, and from /proc of its
 * pid — the process itself, not its children — CPU seconds, resident memory, open files and their
 * limit. A service with two programs for a moment (a switch) shows the one running.
 */
export function supervisedProcesses(programs: readonly { service: string; live: ProcessLive }[], procRoot = '/proc'): Family[] {
  const up = fam('canopy_process_up', 'gauge', 'Whether the service\'s supervised process is running (1) or not (0).');
  const restarts = fam('canopy_process_restarts_total', 'counter', 'Restarts of the service\'s supervised process since its task began.');
  const cpuSecs = fam('canopy_process_cpu_seconds_total', 'counter', 'User and system CPU seconds of the supervised process.');
  const rss = fam('canopy_process_resident_memory_bytes', 'gauge', 'Resident memory of the supervised process in bytes.');
  const fds = fam('canopy_process_open_fds', 'gauge', 'Open file descriptors of the supervised process.');
  const maxFds = fam('canopy_process_max_fds', 'gauge', 'The open files limit of the supervised process.');
  const byService = new Map<string, ProcessLive>();
  for (const { service, live } of programs) {
    const had = byService.get(service);
    if (!had || (live.state === 'running' && had.state !== 'running') || (live.state === had.state && live.at > had.at)) byService.set(service, live);
  }
  for (const [service, live] of [...byService].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const labels = { service };
    const running = live.state === 'running' && live.pid !== null;
    up.samples.push({ labels, value: running ? 1 : 0 });
    restarts.samples.push({ labels, value: live.restarts });
    if (!running) continue;
    // After the command's last ") ": field 3 of stat is index 0, so utime (14) and stime (15) are 11 and 12.
    const text = read(procRoot, `${live.pid}/stat`);
    const stat = text?.slice(text.lastIndexOf(') ') + 2).split(' ');
    if (stat) cpuSecs.samples.push({ labels, value: (Number(stat[11]) + Number(stat[12])) / USER_HZ });
    const kb = /^VmRSS:\s+(\d+) kB/m.exec(read(procRoot, `${live.pid}/status`) ?? '');
    if (kb) rss.samples.push({ labels, value: Number(kb[1]) * 1024 });
    try {
      fds.samples.push({ labels, value: readdirSync(join(procRoot, String(live.pid), 'fd')).length });
    } catch {
      // Gone, or not ours to read.
    }
    const limit = /^Max open files\s+(\d+|unlimited)/m.exec(read(procRoot, `${live.pid}/limits`) ?? '');
    if (limit) maxFds.samples.push({ labels, value: limit[1] === 'unlimited' ? Infinity : Number(limit[1]) });
  }
  return [up, restarts, cpuSecs, rss, fds, maxFds].filter((f) => f.samples.length > 0);
}

/** Every machine family, read from `procRoot` (default /proc). */
export function collectMachine(procRoot = '/proc'): Family[] {
  return [cpu, load, memory, filesystems, disks, network, tcp, processes].flatMap((f) => {
    try {
      return f(procRoot).filter((x) => x.samples.length > 0);
    } catch {
      return [];
    }
  });
}
