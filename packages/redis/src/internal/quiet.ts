/**
 * When a user's callback (a hook, a logger, a metrics recorder) returned a
 * thenable, subscribes to its rejection and ignores it: observers never change
 * an outcome, and a rejected promise nobody handles would end a Node process.
 * A `then` that throws is ignored too; anything else is left alone.
 */
export function ignoreRejection(value: unknown): void {
  if ((typeof value !== 'object' || value === null) && typeof value !== 'function') return;
  try {
    const then = (value as { then?: unknown }).then;
    if (typeof then === 'function') then.call(value, undefined, ignore);
  } catch {
    // A then that throws changes no outcome either.
  }
}

function ignore(): void {
  // Deliberately nothing.
}
