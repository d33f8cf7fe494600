import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { outcome } from '../../test/support.js';
import { CircuitBreaker } from '../circuit-breaker/circuit-breaker.js';
import { errorIs } from '../errors/error-is.js';
import { CircuitOpenError } from '../errors/errors.js';
import { retryable } from '../errors/retryable.js';
import { Fallback } from '../fallback/fallback.js';
import { Retry } from '../retry/retry.js';
import type { RetryConfig } from '../retry/types.js';
import { FakeClock } from '../testing/index.js';
import { type Classifier, type ErrorMatcher, handle, handleAll, handleResult, handleWhen } from './index.js';

class AError extends Error {}
class BError extends AError {}
class CError extends Error {}
const shared = new Error('this very object');

/** What a generated classifier says, as data. */
interface Spec {
  readonly all: boolean;
  readonly errors: readonly ErrorMatcher[];
  readonly byCode: boolean;
  readonly except: readonly ErrorMatcher[];
  readonly threshold: number | null;
}

const hasCodeX = (err: unknown): boolean => (err as { code?: unknown } | null | undefined)?.code === 'X';

/** The classifier a spec describes, built the new way (in a generated order of steps). */
function classifierOf(spec: Spec): Classifier<number> | undefined {
  let c: Classifier | undefined;
  if (spec.all) c = handleAll();
  if (spec.errors.length > 0) c = c === undefined ? handle(...spec.errors) : c.or(...spec.errors);
  if (spec.byCode) c = c === undefined ? handleWhen(hasCodeX) : c.orWhen(hasCodeX);
  const threshold = spec.threshold;
  let result: Classifier<number> | undefined = c;
  if (threshold !== null) {
    const above = (value: number): boolean => value > threshold;
    result = c === undefined ? handleResult(above) : c.orResult(above);
  }
  if (result === undefined) return undefined;
  return spec.except.length > 0 ? result.except(...spec.except) : result;
}

/** The same spec in the older options of a breaker: `isSuccessful` and `isFailureResult`. */
function breakerOptions(spec: Spec) {
  const handled = (err: unknown): boolean =>
    !spec.except.some((m) => errorIs(err, m)) &&
    (spec.all || spec.errors.some((m) => errorIs(err, m)) || (spec.byCode && hasCodeX(err)));
  const { threshold } = spec;
  return {
    isSuccessful: (err: unknown) => !handled(err),
    ...(threshold === null ? {} : { isFailureResult: (value: number) => value > threshold }),
  };
}

/** The same spec in the older options of a retry (the documented table of aliases). */
function retryOptions(spec: Spec): RetryConfig<number> {
  const { threshold } = spec;
  const namesErrors = spec.all || spec.errors.length > 0 || spec.byCode;
  return {
    ...(spec.errors.length > 0 ? { retryableErrors: spec.errors } : {}),
    ...(spec.except.length > 0 ? { nonRetryableErrors: spec.except } : {}),
    // handleAll() is `isRetryable: () => true`; a classifier that names no error is `isRetryable: () => false`.
    ...(spec.all
      ? { isRetryable: () => true }
      : spec.byCode
        ? { isRetryable: hasCodeX }
        : namesErrors
          ? {}
          : { isRetryable: () => false }),
    ...(threshold === null ? {} : { retryOnResult: (value: number) => value > threshold }),
  };
}

const matchers = [AError, BError, CError, shared, CircuitOpenError] as const;

const specs: fc.Arbitrary<Spec> = fc.record({
  all: fc.boolean(),
  errors: fc.subarray([...matchers]),
  byCode: fc.boolean(),
  except: fc.subarray([BError, CError, shared, CircuitOpenError]),
  threshold: fc.option(fc.integer({ min: -2, max: 2 }), { nil: null }),
});

/** A thrown value: an instance, an object, a primitive, wrapped in a cause or marked retryable. */
const thrown: fc.Arbitrary<unknown> = fc
  .tuple(
    fc.oneof(
      fc.constantFrom<() => unknown>(
        () => new AError('a'),
        () => new BError('b'),
        () => new CError('c'),
        () => shared,
        () => new CircuitOpenError({ retryAfterMs: 1 }),
        () => new Error('plain'),
        () => Object.assign(new Error('coded'), { code: 'X' }),
        () => Object.assign(new CError('coded c'), { code: 'X' }),
        () => ({ code: 'X' }),
        () => 'a string',
        () => undefined,
        () => null,
      ),
    ),
    fc.constantFrom('as is', 'as a cause', 'marked retryable'),
  )
  .map(([make, how]) => {
    const value = make();
    if (how === 'as a cause') return new Error('wrapper', { cause: value });
    if (how === 'marked retryable') return retryable(value);
    return value;
  });

type Step = { readonly thrown: unknown } | { readonly value: number };
const steps: fc.Arbitrary<Step> = fc.oneof(
  thrown.map((value) => ({ thrown: value })),
  fc.integer({ min: -3, max: 3 }).map((value) => ({ value })),
);

function run(step: Step): number {
  if ('thrown' in step) throw step.thrown;
  return step.value;
}

/** How a breaker counted one call. */
async function breakerVerdict(cb: CircuitBreaker<number>, step: Step): Promise<string> {
  const before = cb.counts;
  await outcome(cb.execute(() => run(step)));
  const after = cb.counts;
  if (after.totalFailures > before.totalFailures) return 'failure';
  if (after.totalSuccesses > before.totalSuccesses) return 'success';
  return 'neither';
}

/** How many attempts a retry made (2 when it retried) and how it ended. */
async function retryVerdict(config: RetryConfig<number>, step: Step): Promise<unknown> {
  const clock = new FakeClock();
  const retry = new Retry<number>({ ...config, clock, maxAttempts: 2, initialDelay: 1 });
  let calls = 0;
  const done = outcome(
    retry.execute(() => {
      calls++;
      return calls === 1 ? run(step) : 100;
    }),
  );
  await clock.runAll();
  const settled = await done;
  return { calls, ...settled };
}

describe('a classifier and the equivalent older options classify identically', () => {
  it('in a circuit breaker', async () => {
    await fc.assert(
      fc.asyncProperty(specs, fc.array(steps, { minLength: 1, maxLength: 8 }), async (spec, calls) => {
        const classifier = classifierOf(spec);
        const clock = new FakeClock();
        const base = { clock, readyToTrip: () => false };
        const modern = new CircuitBreaker<number>(classifier === undefined ? base : { ...base, handle: classifier });
        const older = new CircuitBreaker<number>(
          classifier === undefined ? base : { ...base, ...breakerOptions(spec) },
        );
        for (const step of calls) {
          expect(await breakerVerdict(modern, step)).toBe(await breakerVerdict(older, step));
        }
        expect(modern.counts).toEqual(older.counts);
      }),
      { numRuns: 300 },
    );
  });

  it('in a retry (retryable() marks and except included)', async () => {
    await fc.assert(
      fc.asyncProperty(specs, steps, async (spec, step) => {
        const classifier = classifierOf(spec);
        if (classifier === undefined) return;
        const modern = await retryVerdict({ handle: classifier }, step);
        const older = await retryVerdict(retryOptions(spec), step);
        expect(modern).toEqual(older);
      }),
      { numRuns: 400 },
    );
  });

  it('in a fallback, for thrown values (shouldHandle)', async () => {
    await fc.assert(
      fc.asyncProperty(specs, thrown, async (spec, value) => {
        const classifier = classifierOf(spec);
        if (classifier === undefined) return;
        const modern = new Fallback<number>({ handle: classifier, fallback: -100 });
        const handled = (err: unknown) => !breakerOptions(spec).isSuccessful(err);
        const older = new Fallback<number>({ shouldHandle: handled, fallback: -100 });
        const fn = () => run({ thrown: value });
        expect(await outcome(modern.execute(fn))).toEqual(await outcome(older.execute(fn)));
        expect(classifier.handlesError(value)).toBe(handled(value));
      }),
      { numRuns: 300 },
    );
  });
});
