/** Something that wants to hear when a caller's signal aborts. */
export interface AbortMember {
  /** Called once, with the signal's reason, when the signal aborts while the member is subscribed. */
  aborted(reason: unknown): void;
}

/**
 * The members listening to each caller signal. One abort listener per signal
 * fans out to all of them, so many calls sharing one signal cost linear time
 * and never trigger `MaxListenersExceededWarning`.
 */
const bySignal = new WeakMap<AbortSignal, Set<AbortMember>>();

function onAbort(this: AbortSignal): void {
  const members = bySignal.get(this);
  bySignal.delete(this);
  if (members === undefined) return;
  const reason = this.reason;
  for (const member of members) member.aborted(reason);
}

/** Calls `member.aborted(reason)` when `signal` aborts, until {@link unsubscribe}. */
export function subscribe(signal: AbortSignal, member: AbortMember): void {
  let members = bySignal.get(signal);
  if (members === undefined) {
    members = new Set();
    bySignal.set(signal, members);
    signal.addEventListener('abort', onAbort, { once: true });
  }
  members.add(member);
}

/** Stops telling `member` about `signal`; the signal's listener goes once no member is left. */
export function unsubscribe(signal: AbortSignal, member: AbortMember): void {
  const members = bySignal.get(signal);
  if (members === undefined || !members.delete(member)) return;
  if (members.size === 0) {
    bySignal.delete(signal);
    signal.removeEventListener('abort', onAbort);
  }
}
