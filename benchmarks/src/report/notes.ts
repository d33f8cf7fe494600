/**
 * What the profiles (`node --cpu-prof` on one subject, see the README) showed
 * behind a target the run missed. Printed only for targets that miss.
 */
export const missNotes: Readonly<Record<string, string>> = {
  'breaker-closed':
    'The closed path of `CircuitBreaker.execute` has no async frame: it settles with one `then` on two callbacks made ' +
    'once per generation (`#settlersFor` in `packages/core/src/circuit-breaker/circuit-breaker.ts`), with no closure, ' +
    'clock read or counts object per call. It measured 0.29–0.30× cockatiel on a quiet machine; a miss at this ' +
    'size is load (see the load average above): rerun before profiling.',
  'retry-first-attempt':
    'A first attempt that succeeds costs one `then` (`Retry.execute`, no async frame), under the budget the issue ' +
    'sets (one extra async layer); cockatiel’s retry is about two. Ratios of 0.25–0.45× were measured on quiet runs; a miss is load ' +
    '(see the load average above): rerun before profiling.',
  'rate-limit-1-key':
    'Each `allow()` reads the clock once (`systemClock.now()` → `performance.now()`): on this VM (kvm-clock) that ' +
    'read is 45 % of the CPU profile and returns a boxed double, 16 B, which is the whole of the bytes per call ' +
    '(a loop of bare `performance.now()` calls allocates the same). rate-limiter-flexible reads `Date.now()` too, so ' +
    'the clock bounds the ratio. A token bucket that refills lazily cannot skip the read: deciding without the ' +
    'current time either over-admits (a refill that would have overflowed the burst is credited) or needs a timer. ' +
    'With an injected integer clock the decision allocates 0 B; the rest of `allow()` (a Map lookup, the LRU touch ' +
    'and the arithmetic) is about 10–15 ns.',
  'rate-limit-10k-keys':
    'As for one key: the clock read per `allow()` (16 B, a boxed double) is the allocation; the Map lookup adds no ' +
    'bytes with the default key cap. (With `maxKeys` set to twice the key count, the key store re-ordered keys on ' +
    'almost every call and allocated ~250 B per decision; the default cap of 100,000 does not.)',
  composed:
    'The inner patterns pass a Timeout’s lazy context on as it is and ask it “aborted?” without creating its ' +
    '`AbortController` (`LazyContext` in `packages/core/src/internal/context.ts`), so the composed call costs no ' +
    'controller unless the work reads `ctx.signal`. It measured 0.02–0.04× cockatiel’s `wrap`; a miss is load.',
};
