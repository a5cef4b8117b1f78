import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_AVAILABILITY_SETTINGS } from '@canopy/core';
import { budgetPercent, formOf, health, millis, percent, settingsOf } from './model.ts';

test('figures read as people expect', () => {
  assert.deepEqual([percent(0.9995), percent(null), percent(1, 1)], ['99.950%', '-', '100.0%']);
  assert.deepEqual([millis(1.234), millis(250.4), millis(null)], ['1.23 ms', '250 ms', '-']);
  assert.deepEqual([health(0.9991, 0.999), health(0.99, 0.999), health(null, 0.999)], ['success', 'exception', 'normal']);
  assert.deepEqual([budgetPercent(0.4567), budgetPercent(-2), budgetPercent(null), budgetPercent(-Infinity)], [45.7, 0, 100, 0]);
});

test('the settings form round-trips and keeps what it does not show', () => {
  const s = DEFAULT_AVAILABILITY_SETTINGS;
  const f = formOf(s);
  assert.equal(f.target, 99.9);
  assert.deepEqual(settingsOf(f, s), s);
  const changed = settingsOf({ ...f, target: 99.95, failStatuses: '5xx, 429', baseEjectionSeconds: 60 }, s);
  assert.deepEqual([changed.slo.target, changed.failStatuses, changed.ejection.baseEjectionSeconds, changed.ejection.successRate], [0.9995, ['5xx', '429'], 60, s.ejection.successRate]);
});
