import { PerformanceObserver, performance } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';

/**
 * Records when garbage collections start, so a measurement can tell whether a
 * GC ran inside its window (the observer delivers entries a turn later).
 */
export class GcWatch {
  readonly #starts: number[] = [];
  readonly #observer: PerformanceObserver;

  constructor() {
    this.#observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) this.#starts.push(entry.startTime);
    });
    this.#observer.observe({ entryTypes: ['gc'] });
  }

  /** The current time on the clock the GC entries use. */
  now(): number {
    return performance.now();
  }

  /** Whether a GC started within `[from, to]`; waits two turns so pending entries arrive first. */
  async ranBetween(from: number, to: number): Promise<boolean> {
    await nextTurn();
    await nextTurn();
    const hit = this.#starts.some((start) => start >= from && start <= to);
    this.#starts.length = 0;
    return hit;
  }

  /** Stops observing. */
  close(): void {
    this.#observer.disconnect();
  }
}

/** Runs a full GC; needs `node --expose-gc`. */
export function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('benchmarks: run node with --expose-gc');
  gc();
}
