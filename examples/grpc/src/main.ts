// A gRPC client with every resilience interceptor in front of a flaky server.
//
// Interceptors run outermost first: a deadline for the whole call (retries
// included), retries of UNAVAILABLE, a circuit breaker, a bulkhead and a
// client-side rate limit. Run it with `pnpm start`.
import * as grpc from '@grpc/grpc-js';
import { Bulkhead, CircuitBreaker, RateLimiter, Retry, Timeout } from '@resilience/core';
import {
  bulkheadInterceptor,
  circuitBreakerInterceptor,
  deadlineInterceptor,
  rateLimitInterceptor,
  retryInterceptor,
  withContext,
} from '@resilience/grpc';
import { Greeter, startServer } from './server.js';

const breaker = new CircuitBreaker({
  readyToTrip: (counts) => counts.consecutiveFailures >= 3,
  timeout: 1_000, // long enough that the outage lines below run while it is open, even on a busy machine
  onStateChange: (from, to) => console.log(`  [breaker ${from} -> ${to}]`),
});

// What the server's health service reports; a PolicyRegistry's health() fits here as it is.
const health = {
  health: () => ({
    status:
      breaker.state === 'open'
        ? ('down' as const)
        : breaker.state === 'half-open'
          ? ('degraded' as const)
          : ('ok' as const),
  }),
};

const server = await startServer(health);
const client = new Greeter(server.address, grpc.credentials.createInsecure(), {
  interceptors: [
    deadlineInterceptor(2_000),
    retryInterceptor(new Retry({ maxAttempts: 3, initialDelay: 10, maxDelay: 50 })),
    circuitBreakerInterceptor(breaker),
    bulkheadInterceptor(new Bulkhead({ maxConcurrent: 8, maxQueue: 16 })),
    rateLimitInterceptor(new RateLimiter({ rate: 50, interval: 1_000 })),
  ],
}) as unknown as grpc.Client & {
  SayHello(
    req: { name: string },
    options: grpc.CallOptions,
    cb: (err: grpc.ServiceError | null, res?: { message: string }) => void,
  ): grpc.ClientUnaryCall;
  Countdown(req: { name: string }, options?: grpc.CallOptions): grpc.ClientReadableStream<{ message: string }>;
};
const healthClient = new grpc.Client(server.address, grpc.credentials.createInsecure());

function sayHello(name: string, options: grpc.CallOptions = {}): Promise<string> {
  return new Promise((resolve) =>
    client.SayHello({ name }, options, (err, res) =>
      resolve(err ? `${grpc.status[err.code]}: ${err.details}` : (res?.message ?? '')),
    ),
  );
}

function countdown(name: string): Promise<string> {
  return new Promise((resolve) => {
    const parts: string[] = [];
    const stream = client.Countdown({ name });
    stream.on('data', (reply: { message: string }) => parts.push(reply.message));
    stream.on('error', (err: grpc.ServiceError) => resolve(`${grpc.status[err.code]}: ${err.details}`));
    stream.on('end', () => resolve(parts.join(' ')));
  });
}

/** grpc.health.v1 Check on the server, decoded by hand: a 2-byte HealthCheckResponse. */
function checkHealth(): Promise<string> {
  return new Promise((resolve) =>
    healthClient.makeUnaryRequest(
      '/grpc.health.v1.Health/Check',
      (req: Buffer) => req,
      (res: Buffer) => res,
      Buffer.alloc(0),
      (err, res) => resolve(err ? `error ${err.code}` : (['UNKNOWN', 'SERVING', 'NOT_SERVING'][res?.[1] ?? 0] ?? '?')),
    ),
  );
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

console.log(`healthy: ${await sayHello('Ada')}`);
console.log(`stream: ${await countdown('Ada')}`);
console.log(`health: ${await checkHealth()}`);

server.outage = true;
console.log(`outage, 1st call: ${await sayHello('Grace')}`);
console.log(`outage, 2nd call: ${await sayHello('Grace')}`);
const handled = server.handled;
console.log(`outage, 3rd call: ${await sayHello('Grace')}`);
console.log(`server calls during the fast failure: ${server.handled - handled}`);
console.log(`health: ${await checkHealth()}`);

server.outage = false;
await sleep(1_100); // past the breaker's timeout: half-open next
console.log(`recovered: ${await sayHello('Linus')}`);
console.log(`health: ${await checkHealth()}`);

// An outer Timeout's remaining time becomes the call's gRPC deadline.
const timeout = new Timeout({ defaultTimeout: 1_000 });
console.log(`with a time budget: ${await timeout.execute((ctx) => sayHello('Barbara', withContext(ctx)))}`);

client.close();
healthClient.close();
server.close();
