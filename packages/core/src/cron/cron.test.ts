import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CronEntryInput, CronSpec, effectiveCron, machineCron, nextCronRuns, type CronOwn } from '../index.ts';

const spec = (schedule: string, extra: Record<string, unknown> = {}) => CronSpec.parse({ schedule, argv: ['true'], ...extra });
const own = (entries: Record<string, ReturnType<typeof spec> | null>): Map<string, CronOwn> =>
  new Map(Object.entries(entries).map(([name, s]) => [name, { name, spec: s, updatedBy: 't', updatedAt: '2026-01-01T00:00:00Z' }]));

describe('cron specs', () => {
  test('accepts five fields, six with seconds, a time zone, and fills the defaults', () => {
    const s = spec('*/5 * * * *');
    assert.deepEqual([s.timezone, s.overlap, s.user, s.timeoutSeconds, s.outputLimitBytes], ['UTC', 'skip', 'root', 3600, 65536]);
    assert.equal(CronSpec.safeParse({ schedule: '* * * * * *', script: 'echo hi', timezone: 'Europe/Paris', overlap: 'queue-one' }).success, true);
  });

  test('refuses a bad expression, an unknown zone, both or neither command, and says where', () => {
    const fields = (input: unknown) => (CronSpec.safeParse(input).error?.issues ?? []).map((i) => i.path.join('.'));
    assert.deepEqual(fields({ schedule: '61 * * * *', argv: ['x'] }), ['schedule']);
    assert.deepEqual(fields({ schedule: '* * *', argv: ['x'] }), ['schedule']);
    assert.deepEqual(fields({ schedule: '* * * * *', argv: ['x'], timezone: 'Mars/Olympus' }), ['timezone']);
    assert.deepEqual(fields({ schedule: '* * * * *', argv: ['x'], script: 'y' }), ['argv']);
    assert.deepEqual(fields({ schedule: '* * * * *' }), ['argv']);
    assert.deepEqual(fields({ schedule: '* * * * *', argv: ['x'], overlap: 'sometimes' }), ['overlap']);
    assert.equal(CronEntryInput.safeParse({ disabled: true }).success, true);
    assert.equal(CronEntryInput.safeParse({ disabled: false }).success, false);
  });

  test('next runs honour the time zone', () => {
    const from = new Date('2026-06-01T00:00:00Z');
    assert.deepEqual(nextCronRuns({ schedule: '0 3 * * *', timezone: 'UTC' }, 2, from), ['2026-06-01T03:00:00.000Z', '2026-06-02T03:00:00.000Z']);
    // Paris is UTC+2 in June: 03:00 there is 01:00 UTC.
    assert.deepEqual(nextCronRuns({ schedule: '0 3 * * *', timezone: 'Europe/Paris' }, 1, from), ['2026-06-01T01:00:00.000Z']);
    assert.deepEqual(nextCronRuns({ schedule: '*/20 * * * * *', timezone: 'UTC' }, 2, from), ['2026-06-01T00:00:20.000Z', '2026-06-01T00:00:40.000Z']);
  });
});

describe('inheritance', () => {
  const root = { id: 1, path: 'corp', own: own({ rotate: spec('0 * * * *'), backup: spec('0 2 * * *') }) };
  const web = { id: 2, path: 'corp.web', own: own({ rotate: spec('*/10 * * * *'), backup: null }) };
  const api = { id: 3, path: 'corp.api', own: undefined };

  test('a child overrides an entry by name and disables one with a mask', () => {
    const { entries, masked } = effectiveCron([root, web]);
    assert.deepEqual([...entries.values()].map((e) => [e.name, e.from, e.spec.schedule]), [['rotate', 'corp.web', '*/10 * * * *']]);
    assert.deepEqual([...masked.values()], [{ name: 'backup', disabledAt: 'corp.web', from: 'corp' }]);
  });

  test('a grandchild may declare again what its parent disabled', () => {
    const leaf = { id: 4, path: 'corp.web.a', own: own({ backup: spec('0 4 * * *') }) };
    const { entries, masked } = effectiveCron([root, web, leaf]);
    assert.equal(entries.get('backup')?.from, 'corp.web.a');
    assert.equal(masked.size, 0);
  });

  test('a machine in two nodes runs a shared entry once and each override separately', () => {
    const table = machineCron([[root, web], [root, api]]);
    assert.deepEqual(table.map((e) => [e.key, e.node]), [['1/backup', 'corp'], ['1/rotate', 'corp'], ['2/rotate', 'corp.web']]);
  });
});
