import type { Op, Prepared } from '../harness/types.js';
import type { PlusTarget, SubjectDef } from './types.js';

/** The work every library runs: an async function that resolves at once. */
export const fn = async (): Promise<number> => 42;

/** The baseline of latency scenarios: a bare `await fn()`. */
export function awaitFn(): Op {
  return { run: () => fn() };
}

/** Calls in flight at once in throughput scenarios. */
export const IN_FLIGHT = 1000;

/**
 * An op that starts {@link IN_FLIGHT} calls before awaiting any, then awaits them all.
 * The array is reused, so every library pays the same for it.
 */
export function inFlight(call: () => Promise<unknown>): Op {
  const pending: Promise<unknown>[] = new Array(IN_FLIGHT);
  return {
    callsPerRun: IN_FLIGHT,
    run: () => {
      for (let i = 0; i < IN_FLIGHT; i++) pending[i] = call();
      return Promise.all(pending);
    },
  };
}

/** Wraps an op as a prepared subject. */
export function prepared(op: Op): Prepared {
  return { kind: 'op', op };
}

/** A subject that cannot run yet, with the reason the report prints. */
export function unavailable(reason: string): Prepared {
  return { kind: 'unavailable', reason };
}

/**
 * Issue 16's yardstick: the work behind one extra async function,
 * `(async (f) => await f())(fn)`. No pattern's fast path should cost more
 * than this over the baseline.
 */
export const ASYNC_LAYER: SubjectDef = {
  id: 'async-layer',
  label: 'yardstick: one extra async layer, `(async (f) => await f())(fn)`',
  library: 'node',
  setup: async () => {
    const layer = async (f: () => Promise<number>): Promise<number> => await f();
    return prepared({ run: () => layer(fn) });
  },
};

/** Our fast path costs no more than {@link ASYNC_LAYER} over the baseline. */
export const UNDER_ONE_ASYNC_LAYER: PlusTarget = {
  kind: 'plus',
  subject: 'ours',
  against: 'async-layer',
  maxExtraNs: 0,
};
