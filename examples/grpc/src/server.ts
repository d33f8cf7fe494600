// A flaky Greeter server: it fails with UNAVAILABLE while `outage` says so,
// sheds load with the server interceptors, and serves grpc.health.v1.
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { Bulkhead, RateLimiter } from '@resilience/core';
import {
  bulkheadServerInterceptor,
  type HealthSource,
  healthService,
  rateLimitServerInterceptor,
} from '@resilience/grpc';

const definition = protoLoader.loadSync(fileURLToPath(new URL('./greeter.proto', import.meta.url)));
/** The generated Greeter client constructor (the service definition is on `.service`). */
export const Greeter = (
  grpc.loadPackageDefinition(definition) as unknown as { example: { Greeter: grpc.ServiceClientConstructor } }
).example.Greeter;

export interface FlakyServer {
  address: string;
  /** Whether calls fail with UNAVAILABLE now. */
  outage: boolean;
  /** Calls that reached a handler. */
  handled: number;
  close(): void;
}

/** Starts the server on 127.0.0.1 with a free port. `health` is what the health service reports. */
export async function startServer(health: HealthSource): Promise<FlakyServer> {
  const state: FlakyServer = { address: '', outage: false, handled: 0, close: () => {} };
  const server = new grpc.Server({
    interceptors: [
      // At most 100 calls a second per client address, and 20 handled at once: the rest are shed
      // before a handler runs (RESOURCE_EXHAUSTED / UNAVAILABLE with grpc-retry-pushback-ms).
      rateLimitServerInterceptor(new RateLimiter({ rate: 100, interval: 1_000 }), {
        methods: ['/example.Greeter/SayHello', '/example.Greeter/Countdown'],
      }),
      bulkheadServerInterceptor(new Bulkhead({ maxConcurrent: 20, maxQueue: 20 }), {
        methods: ['/example.Greeter/SayHello', '/example.Greeter/Countdown'],
      }),
    ],
  });
  server.addService(Greeter.service, {
    SayHello: (call: grpc.ServerUnaryCall<{ name: string }, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      state.handled++;
      if (state.outage) callback({ code: grpc.status.UNAVAILABLE, details: 'greeter is down' });
      else callback(null, { message: `Hello, ${call.request.name}` });
    },
    Countdown: (call: grpc.ServerWritableStream<{ name: string }, unknown>) => {
      state.handled++;
      if (state.outage) {
        call.emit('error', { code: grpc.status.UNAVAILABLE, details: 'greeter is down' });
        return;
      }
      for (let i = 3; i > 0; i--) call.write({ message: `${i}…` });
      call.write({ message: `go, ${call.request.name}!` });
      call.end();
    },
  });
  const healthCheck = healthService(health, { interval: 50, services: ['example.Greeter'] });
  server.addService(healthCheck.service, healthCheck.implementation);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  state.address = `127.0.0.1:${port}`;
  state.close = () => server.forceShutdown();
  return state;
}
