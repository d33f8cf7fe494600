/**
 * What the profiles (`node --cpu-prof` on one subject, see the README) showed
 * behind a target the run missed. Printed only for targets that miss.
 */
export const missNotes: Readonly<Record<string, string>> = {
  'breaker-closed':
    'The closed path of `CircuitBreaker.execute` is one `async` frame (`#call` in ' +
    '`packages/core/src/circuit-breaker/circuit-breaker.ts`): in the CPU profile it is all of our self time, and an ' +
    'extra async layer alone costs 49–68 ns and ~250 B here (PERFORMANCE.md), about half of cockatiel’s whole ' +
    'overhead. Reaching 0.5× needs an execute without an async frame, e.g. `fn(ctx).then(onSuccess, onFailure)` with ' +
    'the two handlers bound once per generation (no closure per call): 25–30 ns against 56–90 ns for the async ' +
    'wrapper in a side-by-side scratch test on this machine.',
  'rate-limit-1-key':
    'Each `allow()` reads the clock once (`systemClock.now()` → `performance.now()`): on this VM (kvm-clock) that ' +
    'read is 45 % of the CPU profile and returns a boxed double, 16 B, which is the whole of the bytes per call ' +
    '(a loop of bare `performance.now()` calls allocates the same). rate-limiter-flexible reads `Date.now()` too, so ' +
    'the clock bounds the ratio; a zero-allocation decision needs a decision that does not read the clock on every ' +
    'call (for instance an opt-in coarse clock), which is a design choice for the core, not a benchmark setting.',
  'rate-limit-10k-keys':
    'As for one key: the clock read per `allow()` (16 B, a boxed double) is the allocation; the Map lookup adds no ' +
    'bytes with the default key cap. (With `maxKeys` set to twice the key count, the key store re-ordered keys on ' +
    'almost every call and allocated ~250 B per decision; the default cap of 100,000 does not.)',
  composed:
    'Both our rows are dominated by one `AbortController` per call: the inner patterns read `ctx.signal` of the ' +
    'Timeout’s lazy context (`PendingCall.signal`, `packages/core/src/timeout/pending-call.ts`; read by ' +
    '`toContext` in `internal/context.ts`, `retry.ts` and `bulkhead.ts` when they are handed that context), which ' +
    'creates the controller the laziness was meant to avoid. In the `compose(…)` profile `createAbortSignal` is 30 % ' +
    'and the garbage collector 30 % of the samples; the `chain` row also links it to the caller’s signal ' +
    '(`addEventListener`/`removeEventListener` per call). Inner patterns need a way to pass the context on and ask ' +
    '“aborted?” without reading `signal`.',
};
