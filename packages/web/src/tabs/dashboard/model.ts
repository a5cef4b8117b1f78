/** Pure pieces of the Dashboard tab: ranges, panels, unit formatting and the ECharts option of a panel. */
import { DERIVED, type DerivedMetric, type MonitorQueryResult } from '@canopy/core';

/** Time ranges of the picker: label → the query's `from`. */
export const RANGES = [
  { label: '1h', from: '-1h' },
  { label: '6h', from: '-6h' },
  { label: '1d', from: '-1d' },
  { label: '7d', from: '-7d' },
  { label: '30d', from: '-30d' },
] as const;

/** The subtree panels, one per derived machine series, in dashboard order. */
export const PANELS: readonly DerivedMetric[] = DERIVED;

/** A value in a panel's unit, for axes and tooltips. */
export function formatValue(v: number, unit: DerivedMetric['unit']): string {
  if (!Number.isFinite(v)) return String(v);
  switch (unit) {
    case 'ratio':
      return `${(v * 100).toFixed(v < 0.1 ? 1 : 0)}%`;
    case 'bytes/s': {
      const units = ['B/s', 'KiB/s', 'MiB/s', 'GiB/s', 'TiB/s'];
      let x = v;
      let i = 0;
      while (Math.abs(x) >= 1024 && i < units.length - 1) {
        x /= 1024;
        i++;
      }
      return `${x.toFixed(x < 10 && i > 0 ? 1 : 0)} ${units[i]}`;
    }
    case 'ratio/cpu':
      return v.toFixed(2);
    case 'count':
      return String(Math.round(v));
  }
}

/** The name of a series in a legend. */
export function seriesName(labels: Record<string, string>, fallback: string): string {
  const parts = Object.entries(labels).map(([k, v]) => (k === 'hostname' ? v : `${k}=${v}`));
  return parts.length > 0 ? parts.join(', ') : fallback;
}

/** An ECharts option for one panel (a line per series, time on x, the unit on y). */
export function chartOption(result: MonitorQueryResult, unit: DerivedMetric['unit'], fallbackName: string): Record<string, unknown> {
  const fmt = (v: number) => formatValue(v, unit);
  return {
    animation: false,
    grid: { left: 56, right: 16, top: 16, bottom: result.series.length > 1 ? 48 : 24 },
    tooltip: { trigger: 'axis', valueFormatter: (v: number) => fmt(v) },
    legend: result.series.length > 1 ? { bottom: 0, type: 'scroll' } : undefined,
    xAxis: { type: 'time', min: result.from, max: result.to },
    yAxis: { type: 'value', min: unit === 'ratio' ? 0 : undefined, max: unit === 'ratio' ? 1 : undefined, axisLabel: { formatter: fmt } },
    series: result.series.map((s) => ({ type: 'line', name: seriesName(s.labels, fallbackName), showSymbol: false, data: s.points, connectNulls: false })),
  };
}
