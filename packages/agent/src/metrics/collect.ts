/**
 * The collect rules of this machine's nodes (document `collect`), run once per collection: ports
 * listening, processes running, HTTP probes (blackbox_exporter's names), scripts printing
 * Prometheus text (run as argv, never through a shell, with a timeout), and pattern counts of
 * lines appended to log files (a counter; a rotated or truncated file starts over from its top).
 */
import { execFile } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseExposition, type CollectRule, type ExpositionFamily } from '@canopy/core';
import { tcpSockets } from './proc.ts';

type Family = ExpositionFamily;
const gauge = (name: string, help: string): Family => ({ name, help, type: 'gauge', samples: [] });
/** Bytes of a log read per collection at most; the rest waits for the next one. */
const LOG_READ_MAX = 16 * 1024 * 1024;

interface LogState {
  ino: number;
  offset: number;
  count: number;
  partial: string;
}

/** Runs rules; keeps log offsets and slow scripts' last output between collections. */
export function createRuleRunner(opts: { procRoot?: string; log: (msg: string) => void }) {
  const procRoot = opts.procRoot ?? '/proc';
  const logs = new Map<string, LogState>();
  const scripts = new Map<string, { at: number; families: Family[] }>();

  function countLog(rule: Extract<CollectRule, { kind: 'log' }>): number | undefined {
    const key = `${rule.name}\0${rule.path}\0${rule.pattern}`;
    let st;
    try {
      st = statSync(rule.path);
    } catch {
      return logs.get(key)?.count;
    }
    let s = logs.get(key);
    // A new rule starts at the end: it counts what is written from now on.
    if (!s) logs.set(key, (s = { ino: st.ino, offset: st.size, count: 0, partial: '' }));
    if (st.ino !== s.ino || st.size < s.offset) Object.assign(s, { ino: st.ino, offset: 0, partial: '' });
    if (st.size > s.offset) {
      const len = Math.min(st.size - s.offset, LOG_READ_MAX);
      const buf = Buffer.alloc(len);
      const fd = openSync(rule.path, 'r');
      try {
        readSync(fd, buf, 0, len, s.offset);
      } finally {
        closeSync(fd);
      }
      s.offset += len;
      const lines = (s.partial + buf.toString('utf8')).split('\n');
      s.partial = (lines.pop() ?? '').slice(-65536);
      const re = new RegExp(rule.pattern);
      for (const l of lines) if (re.test(l)) s.count++;
    }
    return s.count;
  }

  function processCount(pattern: string): number {
    const re = new RegExp(pattern);
    let n = 0;
    for (const e of readdirSync(procRoot)) {
      if (!/^\d+$/.test(e) || e === String(process.pid)) continue;
      try {
        const cmd = readFileSync(join(procRoot, e, 'cmdline'), 'utf8').replaceAll('\0', ' ').trim();
        if (cmd && re.test(cmd)) n++;
      } catch {
        // Gone between readdir and read.
      }
    }
    return n;
  }

  async function probe(rule: Extract<CollectRule, { kind: 'http' }>): Promise<{ ok: number; seconds: number; status: number }> {
    const t0 = performance.now();
    try {
      const res = await fetch(rule.url, { redirect: 'manual', signal: AbortSignal.timeout((rule.timeoutSeconds ?? 5) * 1000) });
      await res.body?.cancel();
      const ok = rule.expectStatus ? rule.expectStatus.includes(res.status) : res.status >= 200 && res.status < 400;
      return { ok: ok ? 1 : 0, seconds: (performance.now() - t0) / 1000, status: res.status };
    } catch {
      return { ok: 0, seconds: (performance.now() - t0) / 1000, status: 0 };
    }
  }

  function script(rule: Extract<CollectRule, { kind: 'script' }>, intervalMs: number): Promise<Family[]> {
    const cached = scripts.get(rule.name);
    if (cached && Date.now() - cached.at < (rule.intervalSeconds ?? 0) * 1000) return Promise.resolve(cached.families);
    return new Promise((resolve) => {
      execFile(rule.argv[0] as string, rule.argv.slice(1), { timeout: (rule.timeoutSeconds ?? Math.max(1, intervalMs / 2000)) * 1000, maxBuffer: 1024 * 1024, killSignal: 'SIGKILL' }, (err, stdout) => {
        const ok = gauge('canopy_script_success', 'Whether the collect script exited 0 within its timeout.');
        ok.samples.push({ labels: { rule: rule.name }, value: err ? 0 : 1 });
        const families: Family[] = [ok];
        if (err) opts.log(`collect script ${rule.name}: ${err.message.split('\n')[0]}`);
        const parsed = parseExposition(stdout);
        if (parsed.errors.length > 0) opts.log(`collect script ${rule.name}: ${parsed.errors.slice(0, 3).join('; ')}`);
        const byName = new Map<string, Family>();
        for (const smp of parsed.samples) {
          if (smp.name.startsWith('node_') || smp.name.startsWith('canopy_')) continue;
          let f = byName.get(smp.name);
          if (!f) byName.set(smp.name, (f = { name: smp.name, help: `From collect script ${rule.name}.`, type: 'untyped', samples: [] }));
          f.samples.push({ labels: { ...smp.labels, rule: rule.name }, value: smp.value });
        }
        families.push(...byName.values());
        scripts.set(rule.name, { at: Date.now(), families });
        resolve(families);
      });
    });
  }

  return {
    /** The families of these rules now. */
    async run(rules: CollectRule[], intervalMs: number): Promise<Family[]> {
      const port = gauge('canopy_port_listening', 'Whether a TCP socket listens on the port (collect rule).');
      const proc = gauge('canopy_process_running', 'Processes whose command line matches the rule.');
      const success = gauge('probe_success', 'Whether the HTTP probe succeeded.');
      const duration = gauge('probe_duration_seconds', 'How long the HTTP probe took.');
      const status = gauge('probe_http_status_code', 'Status of the HTTP probe\'s answer (0: none).');
      const matches: Family = { name: 'canopy_log_matches_total', help: 'Log lines matching the rule\'s pattern.', type: 'counter', samples: [] };
      const listening = rules.some((r) => r.kind === 'port') ? tcpSockets(procRoot).listening : new Set<number>();
      const extra: Promise<Family[]>[] = [];
      const probes: Promise<void>[] = [];
      for (const r of rules) {
        try {
          switch (r.kind) {
            case 'port':
              port.samples.push({ labels: { rule: r.name, port: String(r.port) }, value: listening.has(r.port) ? 1 : 0 });
              break;
            case 'process':
              proc.samples.push({ labels: { rule: r.name }, value: processCount(r.pattern) });
              break;
            case 'http':
              probes.push(probe(r).then((p) => {
                success.samples.push({ labels: { rule: r.name }, value: p.ok });
                duration.samples.push({ labels: { rule: r.name }, value: p.seconds });
                status.samples.push({ labels: { rule: r.name }, value: p.status });
              }));
              break;
            case 'script':
              extra.push(script(r, intervalMs));
              break;
            case 'log': {
              const n = countLog(r);
              if (n !== undefined) matches.samples.push({ labels: { rule: r.name }, value: n });
              break;
            }
          }
        } catch (err) {
          opts.log(`collect rule ${r.name}: ${(err as Error).message}`);
        }
      }
      await Promise.all(probes);
      const scripted = (await Promise.all(extra)).flat();
      // One family per name (the text format requires it): scripts share canopy_script_success, maybe more.
      const byName = new Map<string, Family>();
      for (const f of [port, proc, success, duration, status, matches, ...scripted]) {
        const seen = byName.get(f.name);
        if (seen) seen.samples = [...seen.samples, ...f.samples];
        else byName.set(f.name, { ...f, samples: [...f.samples] });
      }
      return [...byName.values()].filter((f) => f.samples.length > 0);
    },
  };
}
