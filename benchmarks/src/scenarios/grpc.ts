import type { Op, Prepared } from '../harness/types.js';
import { prepared, unavailable } from './fixtures.js';
import { importOurs, loadCore } from './ours.js';
import type { ScenarioDef } from './types.js';

type GrpcModule = typeof import('@grpc/grpc-js');
type UnaryClient = import('@grpc/grpc-js').Client & {
  Echo(request: Buffer, callback: (err: Error | null, reply?: Buffer) => void): unknown;
};

const identity = (b: Buffer): Buffer => b;
const PAYLOAD = Buffer.from('ping');

/** One unary method with pass-through (de)serializers: what is measured is the call, not protobuf. */
const service = {
  Echo: {
    path: '/bench.Echo/Echo',
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};

/** The bare client of the running server, for the baseline (set by the subject's setup, which runs first). */
let bare: UnaryClient | undefined;

function unaryCall(client: UnaryClient): Op {
  return {
    run: () =>
      new Promise<Buffer | undefined>((resolve, reject) =>
        client.Echo(PAYLOAD, (err, reply) => (err ? reject(err) : resolve(reply))),
      ),
  };
}

/** Starts an echo server on loopback and returns a client constructor for it plus its address. */
async function startServer(grpc: GrpcModule): Promise<{ Client: new (...args: never[]) => unknown; address: string }> {
  const server = new grpc.Server();
  server.addService(service, {
    Echo: (call: { request: Buffer }, callback: (err: null, reply: Buffer) => void) => callback(null, call.request),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  const Client = grpc.makeGenericClientConstructor(service, 'Echo');
  return { Client: Client as unknown as new (...args: never[]) => unknown, address: `127.0.0.1:${port}` };
}

/** A unary call on loopback through our breaker and retry interceptors, against the bare call in the same process. */
export const grpcUnary: ScenarioDef = {
  id: 'grpc-unary',
  title: 'gRPC unary call on loopback, breaker + retry interceptors',
  kind: 'latency',
  config:
    'a unary call to an echo server in the same process over 127.0.0.1 (grpc-js, 4-byte payload, pass-through ' +
    'serializers), through `retryInterceptor(new Retry())` and `circuitBreakerInterceptor(new CircuitBreaker())`; ' +
    'the target of issue 13 is at most 5% added latency (the subject column over the baseline column)',
  baselineLabel: 'the same call on a client without interceptors, to the same server, in the same process',
  baseline: () => {
    if (bare === undefined) throw new Error('benchmarks: grpc-unary baseline needs the subject set up first');
    return unaryCall(bare);
  },
  subjects: [
    {
      id: 'ours',
      label: '@resilience/grpc retryInterceptor + circuitBreakerInterceptor',
      library: '@resilience/grpc',
      setup: async (): Promise<Prepared> => {
        const core = await loadCore();
        const adapter = await importOurs('@resilience/grpc').catch(() => undefined);
        if (adapter === undefined) return unavailable('@resilience/grpc is not built yet');
        const { retryInterceptor, circuitBreakerInterceptor } = adapter as Record<string, (...a: unknown[]) => unknown>;
        const Retry = core.Retry as new (config: object) => object;
        const CircuitBreaker = core.CircuitBreaker as new (config: object) => object;
        if (typeof retryInterceptor !== 'function' || typeof circuitBreakerInterceptor !== 'function') {
          return unavailable('@resilience/grpc has no retryInterceptor / circuitBreakerInterceptor export yet');
        }
        const grpc = await import('@grpc/grpc-js');
        const { Client, address } = await startServer(grpc);
        const credentials = grpc.credentials.createInsecure();
        const interceptors = [retryInterceptor(new Retry({})), circuitBreakerInterceptor(new CircuitBreaker({}))];
        const make = Client as unknown as new (address: string, creds: unknown, options?: object) => UnaryClient;
        const ours = new make(address, credentials, { interceptors });
        bare = new make(address, credentials);
        // Connect both before measuring, so neither pays for the handshake.
        await unaryCall(ours).run();
        await unaryCall(bare).run();
        return prepared(unaryCall(ours));
      },
    },
  ],
  targets: [],
};
