import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import {
  defaultOutcomeLookupScheduleMs,
  maxOutcomeLookups,
  outcomeLookupScheduleOf,
  outcomeLookupScheduleProblem,
} from '../../src/domain/outcome-lookup.ts';

// The lookup schedule of a provider step whose answer never came: a named list, configurable
// through OUTCOME_LOOKUP_SCHEDULE_MS, refused at start when it cannot be run.

const saved = process.env.OUTCOME_LOOKUP_SCHEDULE_MS;
afterEach(() => {
  if (saved === undefined) delete process.env.OUTCOME_LOOKUP_SCHEDULE_MS;
  else process.env.OUTCOME_LOOKUP_SCHEDULE_MS = saved;
});

const second = 1_000;
const day = 24 * 60 * 60 * second;

describe('outcome lookup schedule', () => {
  it('defaults to 5 s, 30 s, 5 min, 1 h, then daily three times', () => {
    expect(defaultOutcomeLookupScheduleMs).toEqual([
      5 * second,
      30 * second,
      300 * second,
      3_600 * second,
      day,
      day,
      day,
    ]);
    delete process.env.OUTCOME_LOOKUP_SCHEDULE_MS;
    expect(loadConfig().outcomeLookupScheduleMs).toEqual(defaultOutcomeLookupScheduleMs);
  });

  it('is read from OUTCOME_LOOKUP_SCHEDULE_MS, and a payment started before it had one runs the default', () => {
    process.env.OUTCOME_LOOKUP_SCHEDULE_MS = '200, 400,800';
    expect(loadConfig().outcomeLookupScheduleMs).toEqual([200, 400, 800]);
    expect(outcomeLookupScheduleOf({ outcomeLookupScheduleMs: [200] })).toEqual([200]);
    expect(outcomeLookupScheduleOf({})).toBe(defaultOutcomeLookupScheduleMs);
  });

  it('refuses a schedule that cannot be run', () => {
    for (const [raw, problem] of [
      ['0,100', 'waits must be positive integers of milliseconds'],
      ['100,-5', 'waits must be positive integers of milliseconds'],
      ['1.5', 'waits must be positive integers of milliseconds'],
      ['five', 'waits must be positive integers of milliseconds'],
      [Array.from({ length: maxOutcomeLookups + 1 }, () => '1').join(','), `takes at most ${maxOutcomeLookups} waits`],
    ] as const) {
      process.env.OUTCOME_LOOKUP_SCHEDULE_MS = raw;
      expect(() => loadConfig()).toThrow(`OUTCOME_LOOKUP_SCHEDULE_MS ${problem}`);
    }
    expect(outcomeLookupScheduleProblem([])).toBe('needs at least one wait');
  });
});
