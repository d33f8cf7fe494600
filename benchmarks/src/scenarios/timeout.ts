import type { TimeoutPolicy } from 'cockatiel';
import { loadCockatiel, withNewest } from './competitors.js';
import { ASYNC_LAYER, awaitFn, fn, prepared, unavailable } from './fixtures.js';
import { type Executable, ours } from './ours.js';
import type { ScenarioDef, SubjectDef } from './types.js';

/** Our `Timeout` of 1,000 ms. */
export async function ourTimeout(): Promise<Executable | string> {
  const Timeout = await ours('Timeout');
  return typeof Timeout === 'string' ? Timeout : new Timeout({ defaultTimeout: 1000 });
}

/** cockatiel's aggressive `timeout` of 1,000 ms (rejects at once even when `fn` ignores the signal, as ours does). */
export async function cockatielTimeout(abortOnReturn: boolean): Promise<TimeoutPolicy> {
  const { TimeoutStrategy, timeout } = await loadCockatiel();
  return timeout(1000, { strategy: TimeoutStrategy.Aggressive, abortOnReturn });
}

/** A call waiting on the hand-written deadline: a node of one list served by one shared timer. */
interface DeadlineNode {
  prev: DeadlineNode | null;
  next: DeadlineNode | null;
  readonly at: number;
  readonly reject: (reason: unknown) => void;
}

/**
 * The floor of a timeout that rejects at once when time is up: per call one
 * clock read, one promise the work or the deadline settles, and one list node
 * in and out of the queue that ONE shared timer serves (armed once here, never
 * due in the run). No context, no signal, no validation, no telemetry: what
 * any deadline must pay, measured beside ours.
 */
const DEADLINE_FLOOR: SubjectDef = {
  id: 'deadline-floor',
  label: 'floor: a hand-written deadline (clock read, a promise, a list node of one shared timer)',
  library: 'node',
  setup: async () => {
    let head: DeadlineNode | null = null;
    const unlink = (node: DeadlineNode): void => {
      if (node.prev === null) head = node.next;
      else node.prev.next = node.next;
      if (node.next !== null) node.next.prev = node.prev;
    };
    const timer = setTimeout(() => {
      for (let node = head; node !== null; node = node.next) node.reject(new Error('timed out'));
    }, 1_000_000);
    timer.unref();
    const withDeadline = <T>(work: () => Promise<T>, ms: number): Promise<T> =>
      new Promise<T>((resolve, reject) => {
        const node: DeadlineNode = { prev: null, next: head, at: performance.now() + ms, reject };
        if (head !== null) head.prev = node;
        head = node;
        work().then(
          (value) => {
            unlink(node);
            resolve(value);
          },
          (error: unknown) => {
            unlink(node);
            reject(error);
          },
        );
      });
    return prepared({ run: () => withDeadline(fn, 1_000) });
  },
};

/** A 1,000 ms timeout around work that finishes in time. */
export const timeoutInTime: ScenarioDef = {
  id: 'timeout-in-time',
  title: 'Timeout 1,000 ms, fn finishes in time',
  kind: 'latency',
  config:
    '1,000 ms; the call rejects at once when time is up even if fn ignores its signal (cockatiel `TimeoutStrategy.Aggressive`)',
  baselineLabel: 'await fn()',
  baseline: awaitFn,
  subjects: withNewest([
    {
      id: 'ours',
      label: '@resilience/core Timeout',
      library: '@resilience/core',
      setup: async () => {
        const t = await ourTimeout();
        return typeof t === 'string' ? unavailable(t) : prepared({ run: () => t.execute(fn) });
      },
    },
    {
      id: 'cockatiel',
      label: 'cockatiel timeout (default: aborts its signal on return)',
      library: 'cockatiel',
      setup: async () => {
        const t = await cockatielTimeout(true);
        return prepared({ run: () => t.execute(fn) });
      },
    },
    {
      id: 'cockatiel-no-abort',
      label: 'cockatiel timeout (abortOnReturn: false)',
      library: 'cockatiel',
      setup: async () => {
        const t = await cockatielTimeout(false);
        return prepared({ run: () => t.execute(fn) });
      },
    },
  ]).concat(ASYNC_LAYER, DEADLINE_FLOOR), // shown, not targets: a deadline needs bookkeeping one async layer has not
  targets: [
    { subject: 'ours', against: 'cockatiel', maxRatio: 0.1 },
    { subject: 'ours', against: 'cockatiel-no-abort', maxRatio: 0.1 },
  ],
};
