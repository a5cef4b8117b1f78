import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendTail, summary, uptimeText } from './model.ts';

test('uptime reads at a glance', () => {
  assert.deepEqual([null, 5, 250, 7300, 90_000].map(uptimeText), ['', '5s', '4m10s', '2h1m', '1d1h']);
});

test('the log tail keeps the newest text, cut at a line start', () => {
  assert.equal(appendTail('a\nb\n', 'c\n', 100), 'a\nb\nc\n');
  assert.equal(appendTail('line one\nline two\n', 'line three\n', 15), 'line three\n');
});

test('the summary counts what an operator looks for', () => {
  const p = (state: string, health: string, flapping = false) => ({ state, health, flapping }) as never;
  assert.deepEqual(summary([p('running', 'healthy'), p('running', 'unhealthy'), p('flapping', 'unknown', true)]), { total: 3, running: 2, unhealthy: 1, flapping: 1 });
});
