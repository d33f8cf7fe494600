import type { Clock } from '../clock/clock.js';
import { neverAbortedSignal } from '../internal/context.js';

/**
 * Waits `ms` on `clock`. Rejects at once with the signal's reason when it
 * aborts, clearing the timer; the abort listener is removed either way.
 *
 * The timer is an ordinary (ref'd) one: a caller is awaiting this delay, and
 * a script must not exit in the middle of a back-off with its call unsettled.
 */
export function sleep(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    if (signal === neverAbortedSignal) {
      clock.setTimeout(resolve, ms);
      return;
    }
    const onAbort = (): void => {
      clock.clearTimeout(handle);
      reject(signal.reason);
    };
    const handle = clock.setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
