const ignore = (): void => {};

/** Whether `value` looks like a `Response` (a status and headers with `get`), from any `fetch`. */
export function isResponse(value: unknown): value is Response {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { status?: unknown }).status === 'number' &&
    typeof (value as { headers?: { get?: unknown } }).headers?.get === 'function'
  );
}

/**
 * Cancels the body of a response nobody will read (a retried attempt, a late
 * answer after a timeout), so undici frees its socket at once instead of at
 * garbage collection. Never throws; a rejected cancellation is ignored.
 */
export function discardResponse(value: unknown): void {
  if (!isResponse(value)) return;
  try {
    const body = value.body as { locked?: boolean; cancel?: () => Promise<void> } | null | undefined;
    if (body === null || body === undefined || body.locked === true || typeof body.cancel !== 'function') return;
    body.cancel().then(undefined, ignore);
  } catch {
    // A response-like object whose body getter throws: nothing to free.
  }
}

/**
 * The request controllers that follow one caller's signal after their
 * response was handed out, so that the caller's abort still ends the body
 * (as with a plain `fetch`). One listener per signal; the controllers are
 * held weakly (through their signal, which undici holds while it reads the
 * body), and dead entries are swept when the set has doubled since the last sweep,
 * so a long-lived signal shared by many calls neither leaks nor grows its
 * listener list.
 */
class Followers {
  readonly refs = new Set<WeakRef<AbortSignal>>();
  sweepAt = 64;

  add(signal: AbortSignal): void {
    const refs = this.refs;
    refs.add(new WeakRef(signal));
    if (refs.size < this.sweepAt) return;
    for (const ref of refs) if (ref.deref() === undefined) refs.delete(ref);
    this.sweepAt = Math.max(64, refs.size * 2);
  }

  abort(reason: unknown): void {
    for (const ref of this.refs) {
      const signal = ref.deref();
      if (signal !== undefined) owners.get(signal)?.abort(reason);
    }
    this.refs.clear();
  }
}

/** Each follower signal's controller, alive exactly as long as its signal. */
const owners = new WeakMap<AbortSignal, AbortController>();
const followers = new WeakMap<AbortSignal, Followers>();

/**
 * Makes `controller` abort when `caller` aborts, for as long as the
 * controller's signal is in use; aborts it at once when `caller` already has.
 */
export function followSignal(caller: AbortSignal, controller: AbortController): void {
  if (caller.aborted) {
    controller.abort(caller.reason);
    return;
  }
  let set = followers.get(caller);
  if (set === undefined) {
    const created = new Followers();
    set = created;
    followers.set(caller, created);
    caller.addEventListener('abort', () => created.abort(caller.reason), { once: true });
  }
  owners.set(controller.signal, controller);
  set.add(controller.signal);
}
