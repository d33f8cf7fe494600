import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FailureLog } from '../src/internal/failure-log.js';

/** A logger that keeps its error records. */
function errors() {
  const records: Array<{ msg: string; attrs: Record<string, unknown> | undefined }> = [];
  const ignore = (): void => {};
  return {
    records,
    logger: {
      debug: ignore,
      info: ignore,
      warn: ignore,
      error: (msg: string, attrs?: Record<string, unknown>) => records.push({ msg, attrs }),
    },
  };
}

describe('FailureLog', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('logs at most once a second, with the number of failures since the last record', () => {
    const { records, logger } = errors();
    const log = new FailureLog(logger, 'open');
    log.report(new Error('first'));
    expect(records).toHaveLength(1);
    expect(records[0]).toEqual({
      msg: 'rate limiter failed; letting requests through',
      attrs: { err: new Error('first'), failures: 1, failMode: 'open' },
    });
    vi.setSystemTime(1_000_300);
    log.report(new Error('second'));
    log.report(new Error('third'));
    expect(records).toHaveLength(1);
    // The next failure after the second is over (before the flush ran) reports all three.
    vi.setSystemTime(1_001_500);
    log.report(new Error('fourth'));
    expect(records).toHaveLength(2);
    expect(records[1]?.attrs).toMatchObject({ err: { message: 'fourth' }, failures: 3 });
    // Nothing left to flush.
    vi.advanceTimersByTime(5000);
    expect(records).toHaveLength(2);
  });

  it('reports the suppressed failures a second after the last record when they stop', () => {
    const { records, logger } = errors();
    const log = new FailureLog(logger, 'closed');
    log.report(new Error('first'));
    vi.advanceTimersByTime(200);
    log.report(new Error('second'));
    vi.advanceTimersByTime(200);
    log.report(new Error('third'));
    expect(records).toHaveLength(1);
    vi.advanceTimersByTime(599);
    expect(records).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(records).toHaveLength(2);
    expect(records[1]).toEqual({
      msg: 'rate limiter failed; answering 503',
      attrs: { err: new Error('third'), failures: 2, failMode: 'closed' },
    });
    // The flush started a new second: a failure within it waits for the next flush.
    vi.advanceTimersByTime(500);
    log.report(new Error('fifth'));
    expect(records).toHaveLength(2);
    vi.advanceTimersByTime(500);
    expect(records[2]?.attrs).toMatchObject({ err: { message: 'fifth' }, failures: 1 });
    vi.advanceTimersByTime(10_000);
    expect(records).toHaveLength(3);
    log.report(new Error('later'));
    expect(records[3]?.attrs).toMatchObject({ err: { message: 'later' }, failures: 1 });
  });

  it('survives a logger that throws', () => {
    const log = new FailureLog(
      {
        debug: () => {},
        info: () => {},
        warn: () => {},
        error: () => {
          throw new Error('logger down');
        },
      },
      'open',
    );
    expect(() => log.report(new Error('x'))).not.toThrow();
    log.report(new Error('y'));
    expect(() => vi.advanceTimersByTime(1000)).not.toThrow();
  });
});
