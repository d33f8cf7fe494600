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
    'Each `allow()` reads the clock once (`systemClock.now()` → `performance.now()`), the floor shown by the clock row: ' +
    'on this VM (kvm-clock) the read is most of the decision, and on Node 20 and 22 it returns a boxed double, 16 B, ' +
    'the whole of the bytes per call (the clock row allocates the same; even `performance.now() > 5` allocates there). ' +
    'On Node 24 and 26 `performance.now()` is a fast call and `allow(key)` with the default clock measured 0 B. ' +
    'rate-limiter-flexible reads `Date.now()` too, so the ' +
    'clock bounds the ratio: with the integer clock injected, the same decision is a few ns and 0 B (its row). A ' +
    'token bucket that refills lazily cannot skip the read: deciding without the current time either over-admits or ' +
    'needs a timer. The rest of `allow()` (a `Map` lookup, the LRU touch, the arithmetic) is the integer-clock row ' +
    'minus its clock row. A ratio miss by a few hundredths is load (see the load average above): rerun before profiling.',
  'rate-limit-10k-keys':
    'As for one key: the clock read per `allow()` (16 B, a boxed double) is the allocation and most of the time; with ' +
    '10,000 keys in rotation the `Map` lookup and the key state also miss the CPU cache on every decision, which the ' +
    'integer-clock row shows apart from the clock.',
  'growth-breaker-in-flight':
    'The breaker keeps nothing per call in flight but the call’s own promise and its `then` (no list, no map). What ' +
    'grows at 100,000 in flight is the live set the garbage collector copies and promotes (about 100 B per call more ' +
    'than a bare call, held until `Promise.all` settles, beyond the young generation); the baseline’s spread is the ' +
    'same effect on a bare `fn()`. Compare the two spreads: a cost proportional to the calls in flight would grow ' +
    '100,000×.',
  'growth-bulkhead-queue':
    'Queued calls wait in a FIFO (O(1) per enqueue and hand-over), but each waiter holds a promise and its ' +
    'resolvers, several hundred bytes, until its turn: at 100,000 deep that is tens of MB live, beyond the young ' +
    'generation, and each scavenge copies and promotes it. The baseline’s spread shows the same growth for bare ' +
    'calls; per call, the queue work itself is constant.',
  'growth-retry-budget':
    'Every call counts in the budget’s ring of slices (O(1)); what grows with the callers is the live set of their ' +
    'calls in flight (the baseline’s spread), not the budget.',
  'growth-limiter-keys':
    'A decision is a `Map` lookup, an LRU touch (a few pointer writes) and arithmetic, O(1) at any key count; with ' +
    '1,000,000 keys in rotation every lookup misses the CPU caches (key string, hash table, key state, its LRU ' +
    'neighbours), which is the growth here: the baseline, a bare `Map` lookup over the same keys, misses its caches ' +
    'too (its spread). What the limiter adds beyond that lookup is the clock read and the LRU touch of two ' +
    'neighbouring key states.',
  'timeout-in-time':
    'The 0.1× bounds were set against cockatiel 3.2.1. cockatiel 4.0.0 on Node 22 made its timeout with ' +
    '`abortOnReturn: false` about 4× cheaper than 3.2.1’s, so that one bound is missed while ours costs what it did. ' +
    'Nor can a Timeout come down to the yardstick of one extra async layer: a deadline needs bookkeeping a bare ' +
    'async function has not. The floor row is that bookkeeping written by hand with nothing else (one clock read, ' +
    'one promise, a node in a list that one shared timer serves); ours costs about 1.5× it, the rest being the ' +
    'context the work receives (its signal made only when read), the timer held only while calls wait, and the ' +
    'checks of the caller’s signal and deadline.',
  composed:
    'The floor is the row of the same four steps nested by hand, their callbacks made once (possible only for one ' +
    'fixed `fn`: nothing is made per call and every call site sees one target). It exceeds the sum of the steps ' +
    'alone by about as much as the pipeline does: that excess is what nesting these steps costs, whoever nests them. ' +
    'Five runs on 2026-12-07: the floor 41–112 ns over the sum (median 79), the pipeline 61–153 ns (median 98); ' +
    'the pipeline against the floor −19, −14, +20, +33 and +92 ns (this table is the median run). So most of the miss ' +
    'is the floor. What the pipeline adds above it (median 20 ns) varies more between runs than the floor or the ' +
    'steps do: its chain’s callbacks are shared by every step, so their call sites see several targets where the ' +
    'hand-nested ones see one; that is our lead for the spread, not yet confirmed. ' +
    'Composing allocates nothing: each step of the core’s patterns is handed the next step and `fn` as they are ' +
    '(`packages/core/src/internal/step.ts`), where before 2026-12-07 every boundary made a closure and its scope per ' +
    'call (about 280 B; dropping them made 1,000 calls in flight about 10 % faster, the throughput scenario below). ' +
    'What nesting costs, in two parts. (1) Inside a pipeline the steps do more than alone: the Timeout’s context ' +
    'reaches the inner three, which ask it “aborted?” without creating its `AbortController` (`LazyContext` in ' +
    '`packages/core/src/internal/context.ts`), and the breaker watches it, since a call the Timeout ends is a ' +
    'cancellation, not a failure (two closures per call: its row “as in the pipeline” costs about 18 ns and 184 B ' +
    'more than alone); the second target compares with those rows. (2) Each boundary costs time: a step alone is ' +
    'inlined whole into its caller, two nested steps exceed V8’s inlining budget, so each boundary is a real call and ' +
    'a wait on a promise still pending. The “one boundary” row (two bulkheads composed) costs 9–14 ns over twice one ' +
    'bulkhead; with the budget raised by hand (`--max-inlined-bytecode-size-cumulative=20000`) the same boundary ' +
    'costs about 3 ns, the floor of the nested `then` rows; a Timeout waiting on a pending promise costs about 10 ns ' +
    'more than on `fn`’s settled one. The pipeline measured 0.03× cockatiel’s `wrap`.',
};
