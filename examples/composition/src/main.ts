// The core patterns composed into one policy around a flaky dependency.
//
// Order, outermost first: an overall time budget, retries, a circuit breaker,
// a per-attempt timeout and a bulkhead. Run it with `pnpm start`.
import { type ExecutionContext, isCircuitOpenError, pipeline } from '@resilience/core';

const logger = {
  debug: () => {},
  info: (msg: string, attrs?: Record<string, unknown>) => console.log(JSON.stringify({ level: 'info', msg, ...attrs })),
  warn: (msg: string, attrs?: Record<string, unknown>) => console.log(JSON.stringify({ level: 'warn', msg, ...attrs })),
  error: (msg: string, attrs?: Record<string, unknown>) =>
    console.log(JSON.stringify({ level: 'error', msg, ...attrs })),
};

/** A dependency that fails on the calls it is told to, and answers in a few milliseconds otherwise. */
function flakyDependency(failing: () => boolean) {
  let calls = 0;
  return async (ctx: ExecutionContext): Promise<string> => {
    calls++;
    await new Promise((resolve) => setTimeout(resolve, 2));
    ctx.signal.throwIfAborted();
    if (failing()) throw new Error(`dependency failed on call ${calls}`);
    return `ok (call ${calls}, attempt ${ctx.attempt})`;
  };
}

let outage = false;
const call = flakyDependency(() => outage);

const policy = pipeline<string>()
  .timeout({ name: 'overall', defaultTimeout: 2_000 })
  .retry({ name: 'dependency', maxAttempts: 3, initialDelay: 5, maxDelay: 50, logger })
  .circuitBreaker({ name: 'dependency', readyToTrip: (c) => c.consecutiveFailures >= 3, timeout: 100, logger })
  .timeout({ name: 'attempt', defaultTimeout: 200 })
  .bulkhead({ name: 'dependency', maxConcurrent: 4, maxQueue: 8 })
  .build();

async function request(label: string): Promise<void> {
  try {
    console.log(`${label}: ${await policy.execute(call)}`);
  } catch (err) {
    const cause = err instanceof Error && err.cause instanceof Error ? `, last: ${err.cause.message}` : '';
    // The retry does not retry into an open breaker: its CircuitOpenError reaches us as it is.
    const reason = isCircuitOpenError(err) ? `failed fast (${err.message})` : `${String(err)}${cause}`;
    console.log(`${label}: ${reason}`);
  }
}

await request('healthy');
outage = true;
await request('outage, 1st call');
await request('outage, 2nd call');
outage = false;
await new Promise((resolve) => setTimeout(resolve, 120));
await request('recovered');
