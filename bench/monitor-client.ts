/**
 * The simulated agents of `monitor.bench.ts`, as their own process: one WebSocket per machine
 * credential speaking the real protocol, heartbeating, and pushing `metrics` every 10 s (spread
 * evenly over the period, as agents started at random times are): 50 series, keys once, then values.
 * argv: URL TOKENS_FILE SERIES. IPC out: {t:'connected'}, {t:'stats', pushed, refused}; in: {t:'stats'}.
 */
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import { AGENT_PROTOCOL, AGENT_SESSION_PATH, type ControlMessage } from '../packages/core/src/index.ts';

const [url, tokensFile, seriesArg] = process.argv.slice(2);
if (!url || !tokensFile || !process.send) throw new Error('usage: monitor-client.ts URL TOKENS_FILE SERIES (as a child with IPC)');
const tokens = readFileSync(tokensFile, 'utf8').split('\n').filter(Boolean);
const SERIES = Number(seriesArg ?? 50);
const PERIOD = 10_000;
const wsUrl = new URL(AGENT_SESSION_PATH, url.replace(/^http/, 'ws')).toString();
const keys = [
  ...Array.from({ length: 8 }, (_, i) => `node_cpu_seconds_total{cpu="${i % 2}",mode="${['user', 'system', 'idle', 'iowait'][i >> 1]}"}`),
  'node_load1', 'node_load5', 'node_load15', 'node_memory_MemTotal_bytes', 'node_memory_MemAvailable_bytes', 'node_memory_SwapFree_bytes',
  'node_filesystem_size_bytes{mountpoint="/"}', 'node_filesystem_avail_bytes{mountpoint="/"}', 'node_network_receive_bytes_total{device="eth0"}', 'node_network_transmit_bytes_total{device="eth0"}',
];
while (keys.length < SERIES) keys.push(`app_metric_${keys.length}`);
keys.length = SERIES;
let pushed = 0;
let refused = 0;
let welcomed = 0;

function open(i: number): void {
  const ws = new WebSocket(wsUrl, { headers: { authorization: `Bearer ${tokens[i]}` }, perMessageDeflate: false });
  let seq = 0;
  let defsSent = false;
  const counters = new Array<number>(SERIES).fill(0);
  const push = () => {
    if (ws.readyState !== WebSocket.OPEN) return;
    const v = keys.map((k, j) => (k.includes('_total') ? (counters[j]! += 1 + ((i + j) % 7)) : k.includes('MemTotal') || k.includes('size_bytes') ? 8e9 : Math.round(Math.random() * 1000) / 10));
    ws.send(JSON.stringify({ t: 'push', seq: ++seq, stream: 'metrics', data: { gen: 1, ...(defsSent ? {} : { defs: keys }), samples: [{ at: Date.now(), v }] } }));
    defsSent = true;
  };
  ws.on('open', () => ws.send(JSON.stringify({ t: 'hello', protocol: AGENT_PROTOCOL, agentVersion: 'sim', facts: { hostname: `mon-${i}`, ips: [], cpus: 1, memoryBytes: 1, disks: [], os: 'sim', kernel: 'sim', serial: null, macs: [], bootId: null, bootedAt: null }, tasks: [] })));
  ws.on('message', (data) => {
    const msg = JSON.parse(String(data)) as ControlMessage & { heartbeatMs?: number };
    if (msg.t === 'welcome') {
      if (++welcomed === tokens.length) process.send!({ t: 'connected' });
      setInterval(() => ws.readyState === WebSocket.OPEN && ws.send('{"t":"heartbeat"}'), msg.heartbeatMs ?? 5000).unref();
      setTimeout(() => {
        push();
        setInterval(push, PERIOD);
      }, (i * PERIOD) / tokens.length);
    } else if (msg.t === 'pushed') {
      if (msg.error) {
        refused++;
        if (msg.error.includes('send defs')) defsSent = false;
      } else pushed++;
    }
  });
  ws.on('error', () => {});
}

tokens.forEach((_, i) => open(i));
process.on('message', (m: { t: string }) => {
  if (m.t === 'stats') process.send!({ t: 'stats', pushed, refused });
});
