/**
 * One ECharts chart. ECharts is imported on first use (a chunk of its own, ~1 MB), so the console
 * loads no charting code until someone opens a dashboard.
 */
import { useEffect, useRef } from 'react';

type ECharts = { setOption(o: unknown, notMerge?: boolean): void; resize(): void; dispose(): void };
let loading: Promise<{ init(el: HTMLElement): ECharts }> | undefined;

/** The ECharts module, loaded once. */
function echarts(): Promise<{ init(el: HTMLElement): ECharts }> {
  loading ??= import('echarts').then((m) => m as unknown as { init(el: HTMLElement): ECharts });
  return loading;
}

export function Chart({ option, height = 220, testId }: { option: Record<string, unknown>; height?: number; testId?: string }) {
  const el = useRef<HTMLDivElement>(null);
  const chart = useRef<ECharts | undefined>(undefined);
  const latest = useRef(option);
  latest.current = option;

  useEffect(() => {
    let gone = false;
    let observer: ResizeObserver | undefined;
    void echarts().then((e) => {
      if (gone || !el.current) return;
      chart.current = e.init(el.current);
      chart.current.setOption(latest.current, true);
      observer = new ResizeObserver(() => chart.current?.resize());
      observer.observe(el.current);
    });
    return () => {
      gone = true;
      observer?.disconnect();
      chart.current?.dispose();
      chart.current = undefined;
    };
  }, []);

  useEffect(() => {
    chart.current?.setOption(option, true);
  }, [option]);

  return <div ref={el} style={{ width: '100%', height }} data-testid={testId} />;
}
