import type { Prepared } from '../harness/types.js';
import { loadCockatiel, loadOpossum } from './competitors.js';
import { fn, unavailable } from './fixtures.js';
import { type Executable, ours } from './ours.js';

/** The breaker configuration shared by every library, in words. */
export const BREAKER_CONFIG: string =
  'opens after 6 consecutive failures (gobreaker default `consecutiveFailures > 5`; cockatiel `ConsecutiveBreaker(6)`; ' +
  'opossum has no consecutive mode, so its defaults: 50 % errors over a 10 s window), 60 s before half-open';

/** A function that makes a call through a breaker, or why it cannot. */
export type BreakerFactory = () => Promise<{ call: () => Promise<unknown>; instance: unknown } | string>;

/** Our `CircuitBreaker` with the shared configuration: its defaults (gobreaker's) are that configuration. */
export const ourBreaker: BreakerFactory = async () => {
  const CircuitBreaker = await ours('CircuitBreaker');
  if (typeof CircuitBreaker === 'string') return CircuitBreaker;
  const breaker: Executable = new CircuitBreaker({});
  return { call: () => breaker.execute(fn), instance: breaker };
};

/** cockatiel's `circuitBreaker` with the shared configuration. */
export const cockatielBreaker: BreakerFactory = async () => {
  const { circuitBreaker, ConsecutiveBreaker, handleAll } = await loadCockatiel();
  const policy = circuitBreaker(handleAll, { halfOpenAfter: 60_000, breaker: new ConsecutiveBreaker(6) });
  return { call: () => policy.execute(fn), instance: policy };
};

/** opossum with its call timeout off (`timeout: false`) or at its default (10 s, a timer per call). */
export function opossumBreaker(withTimeout: boolean): BreakerFactory {
  return async () => {
    const { default: CircuitBreaker } = await loadOpossum();
    const breaker = withTimeout
      ? new CircuitBreaker(fn, { resetTimeout: 60_000 })
      : new CircuitBreaker(fn, { resetTimeout: 60_000, timeout: false });
    return { call: () => breaker.fire(), instance: breaker };
  };
}

/** Turns a breaker factory into a prepared latency subject. */
export async function breakerOp(
  factory: BreakerFactory,
  wrap?: (call: () => Promise<unknown>) => Prepared,
): Promise<Prepared> {
  const made = await factory();
  if (typeof made === 'string') return unavailable(made);
  return wrap === undefined ? { kind: 'op', op: { run: made.call } } : wrap(made.call);
}
