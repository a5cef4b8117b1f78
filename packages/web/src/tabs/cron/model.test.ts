import { test } from 'node:test';
import assert from 'node:assert/strict';
import { durationText, formFieldOf, inputOf, originOf, valuesOf, DEFAULT_VALUES } from './model.ts';

test('the form round-trips an entry and builds argv from words', () => {
  const input = inputOf({ ...DEFAULT_VALUES, name: 'rotate', schedule: ' */5 * * * * ', command: ' logrotate  /etc/logrotate.conf ', outputLimitKiB: 128 });
  assert.deepEqual(input, { schedule: '*/5 * * * *', timezone: 'UTC', overlap: 'skip', argv: ['logrotate', '/etc/logrotate.conf'], user: 'root', timeoutSeconds: 3600, outputLimitBytes: 131072 });
  const spec = { ...input, killGraceSeconds: 10, env: {}, description: '' } as never;
  const back = valuesOf({ name: 'rotate', from: 'corp', own: false, overrides: null, spec, nextRuns: [], lastRun: null });
  assert.equal(back.command, 'logrotate /etc/logrotate.conf');
  assert.equal(back.outputLimitKiB, 128);
  assert.equal(inputOf({ ...DEFAULT_VALUES, body: 'script', script: 'echo hi\n' })['script'], 'echo hi\n');
});

test('server issues land on the field that shows them; origins and durations read plainly', () => {
  assert.equal(formFieldOf(['argv', 0]), 'command');
  assert.equal(formFieldOf(['outputLimitBytes']), 'outputLimitKiB');
  assert.equal(formFieldOf(['schedule']), 'schedule');
  assert.equal(formFieldOf(['env', 'X']), undefined);
  assert.equal(originOf({ own: false, from: 'corp', overrides: null }), 'inherited from corp');
  assert.equal(originOf({ own: true, from: 'corp.web', overrides: 'corp' }), 'here, overriding corp');
  assert.deepEqual([durationText(null), durationText(250), durationText(2500), durationText(600_000)], ['', '250 ms', '2.5 s', '10 min']);
});
