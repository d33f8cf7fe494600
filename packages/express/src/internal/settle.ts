/**
 * Swallows the rejection of what a user's callback returned (an `async`
 * logger method), so that it never becomes an unhandled rejection, which
 * would end the process. Anything that is not a thenable is left alone.
 */
export function ignoreRejection(value: unknown): void {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return;
  try {
    const then = (value as { then?: unknown }).then;
    if (typeof then === 'function') then.call(value, undefined, ignore);
  } catch {
    // A `then` that throws: nothing is pending, so nothing can go unhandled.
  }
}

function ignore(): void {}
