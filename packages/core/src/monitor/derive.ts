/**
 * Machine-level series the dashboards chart, derived from node_exporter's at ingest. They carry
 * the names of the node-mixin recording rules (kubernetes-monitoring/node-mixin), so a panel names
 * one series in both modes: the embedded store computes it from each push, Prometheus from the
 * PromQL beside it. Counters (`*_total`) are stored as per-second rates, so "rate" here is the
 * rate over one collection interval.
 */
import type { SeriesLabels } from './series.ts';

export interface Sample {
  name: string;
  labels: SeriesLabels;
  value: number;
}

export interface DerivedMetric {
  name: string;
  title: string;
  unit: 'ratio' | 'bytes/s' | 'ratio/cpu' | 'count';
  /** The same series in Prometheus, one per instance, over series carrying `matchers` (PromQL label matchers, comma-separated). */
  promql: (matchers: string) => string;
}

/** The derived series, in dashboard order. */
export const DERIVED: DerivedMetric[] = [
  { name: 'instance:node_cpu_utilisation:rate1m', title: 'CPU', unit: 'ratio', promql: (m) => `1 - avg by (instance) (rate(node_cpu_seconds_total{${w(m, 'mode="idle"')}}[1m]))` },
  { name: 'instance:node_memory_utilisation:ratio', title: 'Memory', unit: 'ratio', promql: (m) => `1 - max by (instance) (node_memory_MemAvailable_bytes{${m}}) / max by (instance) (node_memory_MemTotal_bytes{${m}})` },
  { name: 'instance:node_filesystem_utilisation:ratio', title: 'Disk (fullest filesystem)', unit: 'ratio', promql: (m) => `max by (instance) (1 - node_filesystem_avail_bytes{${m}} / node_filesystem_size_bytes{${m}})` },
  { name: 'instance:node_load1_per_cpu:ratio', title: 'Load per CPU', unit: 'ratio/cpu', promql: (m) => `max by (instance) (node_load1{${m}}) / count by (instance) (node_cpu_seconds_total{${w(m, 'mode="idle"')}})` },
  { name: 'instance:node_network_receive_bytes_excluding_lo:rate1m', title: 'Network in', unit: 'bytes/s', promql: (m) => `sum by (instance) (rate(node_network_receive_bytes_total{${w(m, 'device!="lo"')}}[1m]))` },
  { name: 'instance:node_network_transmit_bytes_excluding_lo:rate1m', title: 'Network out', unit: 'bytes/s', promql: (m) => `sum by (instance) (rate(node_network_transmit_bytes_total{${w(m, 'device!="lo"')}}[1m]))` },
  { name: 'instance:node_disk_io_time_seconds:rate1m', title: 'Disk busy (busiest device)', unit: 'ratio', promql: (m) => `max by (instance) (rate(node_disk_io_time_seconds_total{${m}}[1m]))` },
];

function w(matchers: string, extra: string): string {
  return matchers === '' ? extra : `${matchers},${extra}`;
}

/** True for a series stored as its per-second rate. */
export function isCounter(name: string): boolean {
  return name.endsWith('_total');
}

/** The derived samples of one collection, from its stored values (counters already rates). */
export function deriveSamples(samples: Sample[]): Sample[] {
  let idle = 0;
  let cpuAll = 0;
  const cpus = new Set<string>();
  let load1: number | undefined;
  let memTotal: number | undefined;
  let memAvail: number | undefined;
  let rx: number | undefined;
  let tx: number | undefined;
  let fs: number | undefined;
  let io: number | undefined;
  const fsSize = new Map<string, number>();
  const fsAvail = new Map<string, number>();
  for (const s of samples) {
    switch (s.name) {
      case 'node_cpu_seconds_total':
        cpuAll += s.value;
        if (s.labels['mode'] === 'idle') {
          idle += s.value;
          cpus.add(s.labels['cpu'] ?? '');
        }
        break;
      case 'node_load1':
        load1 = s.value;
        break;
      case 'node_memory_MemTotal_bytes':
        memTotal = s.value;
        break;
      case 'node_memory_MemAvailable_bytes':
        memAvail = s.value;
        break;
      case 'node_network_receive_bytes_total':
        if (s.labels['device'] !== 'lo') rx = (rx ?? 0) + s.value;
        break;
      case 'node_network_transmit_bytes_total':
        if (s.labels['device'] !== 'lo') tx = (tx ?? 0) + s.value;
        break;
      case 'node_filesystem_size_bytes':
        fsSize.set(s.labels['mountpoint'] ?? '', s.value);
        break;
      case 'node_filesystem_avail_bytes':
        fsAvail.set(s.labels['mountpoint'] ?? '', s.value);
        break;
      case 'node_disk_io_time_seconds_total':
        io = Math.max(io ?? 0, s.value);
        break;
    }
  }
  for (const [m, size] of fsSize) {
    const avail = fsAvail.get(m);
    if (avail !== undefined && size > 0) fs = Math.max(fs ?? 0, 1 - avail / size);
  }
  const out: Sample[] = [];
  const put = (i: number, v: number | undefined) => {
    if (v !== undefined && Number.isFinite(v)) out.push({ name: (DERIVED[i] as DerivedMetric).name, labels: {}, value: v });
  };
  put(0, cpuAll > 0 ? 1 - idle / cpuAll : undefined);
  put(1, memTotal && memAvail !== undefined ? 1 - memAvail / memTotal : undefined);
  put(2, fs);
  put(3, load1 !== undefined && cpus.size > 0 ? load1 / cpus.size : undefined);
  put(4, rx);
  put(5, tx);
  put(6, io);
  return out;
}
