import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, chmodSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseExposition, renderExposition, type ExpositionFamily } from '@canopy/core';
import { createRuleRunner } from './collect.ts';
import { until } from '../testing.ts';
import { parseListen } from './module.ts';
import { collectMachine } from './proc.ts';

const dir = mkdtempSync(join(tmpdir(), 'metrics-collect-'));
let http: Server;
let port = 0;
let sleeper: ChildProcess;
const marker = `canopy-collect-test-${process.pid}`;

before(async () => {
  http = createServer((req, res) => res.writeHead(req.url === '/bad' ? 503 : 200).end('ok'));
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
  port = (http.address() as AddressInfo).port;
  sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 300_000)', marker], { stdio: 'ignore' });
  // spawn returns before the child has exec'd: wait until its command line is the one started.
  await until('the sleeper to exec', () => {
    try {
      return readFileSync(`/proc/${sleeper.pid}/cmdline`, 'utf8').includes(marker);
    } catch {
      return false;
    }
  });
});
after(() => {
  http.close();
  sleeper.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const value = (fams: ExpositionFamily[], name: string, labels: Record<string, string> = {}) =>
  fams.find((f) => f.name === name)?.samples.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;

test('machine metrics come from /proc with node_exporter names, and render as Prometheus text', () => {
  const fams = collectMachine();
  assert.ok((value(fams, 'node_cpu_seconds_total', { cpu: '0', mode: 'idle' }) ?? 0) > 0);
  assert.ok((value(fams, 'node_memory_MemTotal_bytes') ?? 0) > (value(fams, 'node_memory_MemAvailable_bytes') ?? Infinity));
  assert.ok((value(fams, 'node_filesystem_size_bytes') ?? 0) > 0, 'some real filesystem is measured');
  assert.notEqual(value(fams, 'node_load1'), undefined);
  assert.ok((value(fams, 'node_network_receive_bytes_total', { device: 'lo' }) ?? -1) >= 0);
  assert.ok((value(fams, 'node_tcp_connection_states', { state: 'listen' }) ?? 0) >= 1, 'our own HTTP server listens');
  assert.ok((value(fams, 'node_processes_pids') ?? 0) > 1);
  const text = renderExposition(fams);
  assert.match(text, /^# TYPE node_cpu_seconds_total counter$/m);
  const back = parseExposition(text, 100_000);
  assert.deepEqual(back.errors, []);
  assert.equal(back.samples.length, fams.reduce((n, f) => n + f.samples.length, 0));
});

test('collect rules: port, process, HTTP probe, script and log pattern count against the real things', async () => {
  const script = join(dir, 'queue.sh');
  writeFileSync(script, '#!/bin/sh\necho "# HELP queue_depth jobs"\necho \'queue_depth{queue="mail"} 42\'\necho \'node_load1 999\'\necho "garbage line"\n');
  chmodSync(script, 0o755);
  const log = join(dir, 'app.log');
  writeFileSync(log, 'ERROR before the rule existed\n');
  const messages: string[] = [];
  const runner = createRuleRunner({ log: (m) => messages.push(m) });
  const rules = [
    { name: 'web', kind: 'port' as const, port },
    { name: 'closed', kind: 'port' as const, port: 1 },
    { name: 'sleeper', kind: 'process' as const, pattern: `setTimeout.* ${marker}$` },
    { name: 'ok', kind: 'http' as const, url: `http://127.0.0.1:${port}/health` },
    { name: 'bad', kind: 'http' as const, url: `http://127.0.0.1:${port}/bad` },
    { name: 'queue', kind: 'script' as const, argv: [script] },
    { name: 'fails', kind: 'script' as const, argv: ['/bin/false'] },
    { name: 'errors', kind: 'log' as const, path: log, pattern: '^ERROR' },
  ];
  let fams = await runner.run(rules, 10_000);
  assert.equal(value(fams, 'canopy_port_listening', { rule: 'web' }), 1);
  assert.equal(value(fams, 'canopy_port_listening', { rule: 'closed' }), 0);
  assert.equal(value(fams, 'canopy_process_running', { rule: 'sleeper' }), 1);
  assert.equal(value(fams, 'probe_success', { rule: 'ok' }), 1);
  assert.equal(value(fams, 'probe_success', { rule: 'bad' }), 0);
  assert.equal(value(fams, 'probe_http_status_code', { rule: 'bad' }), 503);
  assert.equal(value(fams, 'queue_depth', { rule: 'queue', queue: 'mail' }), 42);
  assert.equal(value(fams, 'node_load1'), undefined, 'a script cannot overwrite machine metrics');
  assert.equal(value(fams, 'canopy_script_success', { rule: 'queue' }), 1);
  assert.equal(value(fams, 'canopy_script_success', { rule: 'fails' }), 0);
  assert.equal(value(fams, 'canopy_log_matches_total', { rule: 'errors' }), 0, 'counting starts at the end of the file');
  appendFileSync(log, 'INFO fine\nERROR one\nERROR tw');
  fams = await runner.run(rules, 10_000);
  assert.equal(value(fams, 'canopy_log_matches_total', { rule: 'errors' }), 1, 'a line still being written waits');
  appendFileSync(log, 'o\n');
  renameSync(log, `${log}.1`);
  writeFileSync(log, 'ERROR three\n');
  fams = await runner.run(rules, 10_000);
  assert.equal(value(fams, 'canopy_log_matches_total', { rule: 'errors' }), 2, 'a rotated file starts over from its top');
  fams = await runner.run(rules, 10_000);
  assert.equal(value(fams, 'canopy_log_matches_total', { rule: 'errors' }), 2);
  assert.ok(messages.some((m) => m.includes('garbage line')), messages.join('\n'));
});

test('the listen flag takes host:port', () => {
  assert.deepEqual(parseListen('127.0.0.1:9100'), { host: '127.0.0.1', port: 9100 });
  assert.deepEqual(parseListen('[::1]:9100'), { host: '::1', port: 9100 });
  assert.deepEqual(parseListen(':9100'), { host: '0.0.0.0', port: 9100 });
  assert.throws(() => parseListen('9100'), /host:port/);
});
