/**
 * Helpers shared by the unit tests of `@resilience/core`. Test-only: this
 * module is not part of the published package.
 */
import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest';
import { CircuitBreaker } from '../src/circuit-breaker/circuit-breaker.js';
import type { CircuitBreakerConfig, Counts } from '../src/circuit-breaker/types.js';
import type { Clock } from '../src/clock/clock.js';
import type { ExecutionContext } from '../src/context.js';
import type { Logger } from '../src/observability/types.js';
import { FakeClock } from '../src/testing/index.js';

/** A promise together with the functions that settle it, see {@link deferred}. */
export interface Deferred<T> {
  /** The promise, pending until {@link Deferred.resolve} or {@link Deferred.reject} is called. */
  promise: Promise<T>;
  /** Fulfils {@link Deferred.promise} with `value`. */
  resolve(value: T): void;
  /** Rejects {@link Deferred.promise} with `reason`. */
  reject(reason: unknown): void;
}

/** A promise settled by hand: a call whose end the test decides. */
export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** How a promise settled: its value, or the error it rejected with. */
export interface Outcome<V> {
  /** The value, when the promise fulfilled. */
  value?: V;
  /** The reason, when the promise rejected. */
  error?: unknown;
}

/** Turns a promise into one that always fulfils, with `{ value }` or `{ error }`; no rejection goes unhandled. */
export function outcome<V>(promise: Promise<V>): Promise<Outcome<V>> {
  return promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
}

/**
 * Fails every test of the calling file during which a promise rejection went
 * unhandled (checked a few milliseconds after the test, so that late ones count).
 * Call it once at the top level of a test file.
 */
export function failOnUnhandledRejection(): void {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => {
    unhandled.push(reason);
  };
  beforeEach(() => {
    unhandled.length = 0;
    process.on('unhandledRejection', onUnhandled);
  });
  afterEach(async () => {
    await new Promise((resolve) => setTimeout(resolve, 5));
    process.off('unhandledRejection', onUnhandled);
    expect(unhandled).toEqual([]);
  });
}

/** The error {@link flaky} work fails with by default: one a retry should retry. */
export class NetworkError extends Error {}

/** An error of another class than {@link NetworkError}, for tests of error classification. */
export class AuthError extends Error {}

/** One run of {@link flaky} work: when it started, on the test's clock, and the context it was given. */
export interface FlakyCall {
  /** `clock.now()` when the run started. */
  at: number;
  /** The context the run was given. */
  ctx: ExecutionContext;
}

/**
 * Work that fails `failures` times (rejecting with `error(n)` on the n-th run,
 * a {@link NetworkError} by default) then returns `value`; `calls` records when
 * and how it ran.
 */
export function flaky<V>(
  clock: FakeClock,
  failures: number,
  value: V,
  error: (n: number) => unknown = (n) => new NetworkError(`fail ${n}`),
): { fn: (ctx: ExecutionContext) => Promise<V>; calls: FlakyCall[] } {
  const calls: FlakyCall[] = [];
  const fn = (ctx: ExecutionContext): Promise<V> => {
    calls.push({ at: clock.now(), ctx });
    return calls.length <= failures ? Promise.reject(error(calls.length)) : Promise.resolve(value);
  };
  return { fn, calls };
}

/** Lets the pending attempt settle, then fires every timer of `clock` (and those they schedule). */
export async function drain(clock: FakeClock): Promise<void> {
  await clock.advance(0);
  await clock.runAll();
}

/** One call to a {@link recordingLogger}. */
export interface LogRecord {
  /** The method that was called. */
  level: keyof Logger;
  /** The message. */
  msg: string;
  /** The attributes, when any were passed. */
  attrs: Record<string, unknown> | undefined;
}

/** A {@link Logger} that records every call, in order, in `records`. Its methods may be replaced. */
export function recordingLogger(): Logger & { records: LogRecord[] } {
  const records: LogRecord[] = [];
  const at =
    (level: keyof Logger) =>
    (msg: string, attrs?: Record<string, unknown>): void => {
      records.push({ level, msg, attrs });
    };
  return { records, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** An OpenTelemetry tracer provider whose finished spans are kept in memory. */
export interface InMemoryTracing {
  /** Holds the finished spans: `getFinishedSpans()`, `reset()`. */
  exporter: InMemorySpanExporter;
  /** Hands out tracers that export to {@link InMemoryTracing.exporter} as each span ends. */
  provider: BasicTracerProvider;
}

/** A new OpenTelemetry SDK provider that exports every span, as it ends, to an in-memory exporter. */
export function inMemoryTracing(): InMemoryTracing {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  return { exporter, provider };
}

/**
 * Installs an `AsyncLocalStorageContextManager` as the global OpenTelemetry
 * context manager before the tests of the calling file and removes it after
 * them, so that active spans follow async work. Call it once at the top level.
 */
export function useAsyncContextManager(): void {
  const contextManager = new AsyncLocalStorageContextManager();
  beforeAll(() => {
    context.setGlobalContextManager(contextManager.enable());
  });
  afterAll(() => {
    context.disable();
  });
}

/**
 * A clock on the real time and timers whose `setTimeout` also records each
 * Node timer handle in `handles`, so that a test can check `hasRef()`.
 */
export function recordingSystemClock(): { clock: Clock; handles: NodeJS.Timeout[] } {
  const handles: NodeJS.Timeout[] = [];
  const clock: Clock = {
    now: () => performance.now(),
    setTimeout: (fn: () => void, ms: number) => {
      const handle = setTimeout(fn, ms);
      handles.push(handle);
      return handle;
    },
    clearTimeout: (handle: unknown) => clearTimeout(handle as NodeJS.Timeout),
  };
  return { clock, handles };
}

/** A circuit breaker on a fresh fake clock that records its transitions as `"from->to"`. */
export function breakerOnFakeClock<T = unknown>(
  config: CircuitBreakerConfig<T> = {},
): { clock: FakeClock; breaker: CircuitBreaker<T>; transitions: string[] } {
  const clock = new FakeClock();
  const transitions: string[] = [];
  const breaker = new CircuitBreaker<T>({
    clock,
    onStateChange: (from, to) => transitions.push(`${from}->${to}`),
    ...config,
  });
  return { clock, breaker, transitions };
}

/** The counts of a breaker generation that has counted nothing. */
export const noCounts: Counts = Object.freeze({
  requests: 0,
  totalSuccesses: 0,
  totalFailures: 0,
  consecutiveSuccesses: 0,
  consecutiveFailures: 0,
});
