/**
 * Resolves once `condition()` holds, polling every 5 ms; rejects after
 * `limitMs` naming `what`. Tests wait for a state, never for a fixed time.
 */
export async function until(condition: () => boolean, what = 'the condition', limitMs = 10_000): Promise<void> {
  const start = performance.now();
  while (!condition()) {
    if (performance.now() - start > limitMs) throw new Error(`timed out after ${limitMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
