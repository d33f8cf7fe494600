import { describe, expect, it } from 'vitest';
import { failOnUnhandledRejection, outcome, recordingLogger } from '../../test/support.js';
import { CircuitOpenError } from '../errors/errors.js';
import { FakeClock } from '../testing/index.js';
import { AdaptiveThrottle } from './adaptive-throttle.js';

failOnUnhandledRejection();

const boom = (): Promise<never> => Promise.reject(new Error('boom'));
const ok = (): Promise<string> => Promise.resolve('ok');

describe('AdaptiveThrottle.on', () => {
  it("reports 'rejected' after onRejected with the probability; a throwing listener is logged and changes nothing", async () => {
    const clock = new FakeClock();
    const logger = recordingLogger();
    const order: string[] = [];
    const throttle = new AdaptiveThrottle({
      k: 1,
      clock,
      logger,
      random: () => 0,
      onRejected: (p) => order.push(`hook ${p}`),
    });
    throttle.on('rejected', ({ probability }) => {
      order.push(`event ${probability}`);
      throw new Error('listener broke');
    });
    await outcome(throttle.execute(boom)); // (1 − 0) / 2 = 0.5
    const rejected = await outcome(throttle.execute(ok));
    expect(rejected.error).toBeInstanceOf(CircuitOpenError);
    expect(order).toEqual(['hook 0.5', 'event 0.5']);
    expect(logger.records.filter((r) => r.msg === 'listener for "rejected" threw')).toHaveLength(1);
    expect(() => throttle.on('failure' as never, () => undefined)).toThrow(
      'AdaptiveThrottle: event must be one of "rejected", got "failure"',
    );
  });
});

describe('AdaptiveThrottle.update', () => {
  it('validates first: a bad value throws, naming it, and nothing changes', () => {
    const throttle = new AdaptiveThrottle({ k: 2 });
    expect(() => throttle.update({ k: 0.5 })).toThrow(/AdaptiveThrottle: k must be .*>= 1, got 0.5/);
    expect(() => throttle.update({ window: -1 })).toThrow(/window must be/);
    expect(() => throttle.update({ maxRejectionProbability: 2 })).toThrow(/maxRejectionProbability must be/);
    expect(() => throttle.update({ random: 'x' as never })).toThrow(/random must be a function/);
    expect(() => throttle.update({ K: 3 } as never)).toThrow(/unknown option "K"/);
    expect([throttle.k, throttle.window, throttle.maxRejectionProbability]).toEqual([2, 120_000, 0.9]);
  });

  it('keeps the counts: a new k or cap moves the probability at once', async () => {
    const clock = new FakeClock();
    const throttle = new AdaptiveThrottle({ k: 2, clock, random: () => 0.999_999 });
    for (let i = 0; i < 10; i++) await outcome(throttle.execute(ok));
    for (let i = 0; i < 30; i++) await outcome(throttle.execute(boom));
    expect(throttle.rejectionProbability).toBeCloseTo(20 / 41, 12);
    throttle.update({ k: 1 });
    expect(throttle.requests).toBe(40);
    expect(throttle.rejectionProbability).toBeCloseTo(30 / 41, 12);
    throttle.update({ maxRejectionProbability: 0.25 });
    expect(throttle.rejectionProbability).toBe(0.25);
  });

  it('a new window keeps the counts, which then age out at the new pace', async () => {
    const clock = new FakeClock();
    const throttle = new AdaptiveThrottle({ window: 100_000, clock });
    await clock.advance(35_000); // well into the window: the current step is the fourth
    for (let i = 0; i < 10; i++) await outcome(throttle.execute(boom));
    throttle.update({ window: 1_000 });
    expect(throttle.requests).toBe(10); // the change itself drops nothing
    await clock.advance(40); // still within the current step (half a new step, 50 ms, was left)
    expect(throttle.requests).toBe(10);
    await clock.advance(1_000); // one new window later, all of it slid out
    expect(throttle.requests).toBe(0);
    for (let i = 0; i < 3; i++) await outcome(throttle.execute(boom));
    expect(throttle.requests).toBe(3);
    await clock.advance(1_100);
    expect(throttle.requests).toBe(0);
  });

  it('a call running across an update is counted when it settles', async () => {
    const clock = new FakeClock();
    const throttle = new AdaptiveThrottle({ clock });
    let release!: () => void;
    const running = throttle.execute(() => new Promise<void>((resolve) => (release = resolve)));
    throttle.update({ k: 3, isSuccessful: () => true });
    release();
    await running;
    expect([throttle.requests, throttle.accepts]).toEqual([1, 1]);
  });
});
