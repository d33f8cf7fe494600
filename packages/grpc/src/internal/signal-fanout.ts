/** Something to cancel when a shared signal aborts. */
export interface Cancellable {
  cancelFromSignal(reason: unknown): void;
}

/**
 * One `abort` listener per signal, fanning out to the calls that share it:
 * adding and removing a call is O(1) however many calls share one signal,
 * and no `MaxListenersExceededWarning` appears.
 */
class Fanout {
  readonly signal: AbortSignal;
  readonly members = new Set<Cancellable>();

  constructor(signal: AbortSignal) {
    this.signal = signal;
  }

  handleEvent(): void {
    fanouts.delete(this.signal);
    const reason = this.signal.reason;
    const members = [...this.members];
    this.members.clear();
    for (const member of members) member.cancelFromSignal(reason);
  }
}

const fanouts = new WeakMap<AbortSignal, Fanout>();

/** Cancels `member` when `signal` aborts, until {@link unfollow}. */
export function follow(signal: AbortSignal, member: Cancellable): void {
  let fanout = fanouts.get(signal);
  if (fanout === undefined) {
    fanout = new Fanout(signal);
    fanouts.set(signal, fanout);
    signal.addEventListener('abort', fanout, { once: true });
  }
  fanout.members.add(member);
}

/** Stops following; the signal's listener goes when its last member leaves. */
export function unfollow(signal: AbortSignal, member: Cancellable): void {
  const fanout = fanouts.get(signal);
  if (fanout === undefined || !fanout.members.delete(member)) return;
  if (fanout.members.size === 0) {
    fanouts.delete(signal);
    if (!signal.aborted) signal.removeEventListener('abort', fanout);
  }
}
