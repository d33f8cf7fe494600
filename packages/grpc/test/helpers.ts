import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { afterAll, beforeAll, beforeEach } from 'vitest';

const PROTO = fileURLToPath(new URL('./fixtures/echo.proto', import.meta.url));

/** The four kinds of call, by method name. */
export const KINDS = ['Unary', 'ClientStream', 'ServerStream', 'Bidi'] as const;
export type Kind = (typeof KINDS)[number];

const definition = protoLoader.loadSync(PROTO, { keepCase: true, defaults: true });
const loaded = grpc.loadPackageDefinition(definition) as unknown as {
  resilience: { test: { Echo: grpc.ServiceClientConstructor } };
};
/** The generated client constructor of the Echo service. */
export const EchoClient: grpc.ServiceClientConstructor = loaded.resilience.test.Echo;

/** What the helpers use of any server call object. */
interface ServerCall {
  readonly metadata: grpc.Metadata;
  readonly cancelled: boolean;
  getDeadline(): grpc.Deadline;
  getPeer(): string;
  on(event: 'cancelled', listener: () => void): unknown;
}

/** What the helpers use of a server call with a response stream. */
interface StreamOut {
  write(message: unknown): unknown;
  end(): void;
  emit(event: 'error', err: unknown): boolean;
}

/** What the server does with one call. */
export interface Action {
  /** End with this status code (OK when absent). */
  code?: grpc.status;
  /** The status details. */
  details?: string;
  /** Trailing metadata to send with the status. */
  trailers?: Record<string, string>;
  /** Wait this long before answering (cancellation ends the wait). */
  delayMs?: number;
  /** Streaming responses: send this many replies before a failing status. */
  repliesBeforeFailure?: number;
  /** Send these response headers first (before any reply or status). */
  headers?: Record<string, string>;
  /** Hold the answer until {@link EchoServer.release} (no timing in the test: it decides when). */
  hold?: boolean;
}

/** One call as the server saw it. */
export interface CallRecord {
  readonly method: string;
  readonly metadata: grpc.Metadata;
  readonly deadline: grpc.Deadline;
  readonly peer: string;
  cancelled: boolean;
  texts: string[];
}

/** A real grpc-js server on 127.0.0.1 with the Echo service, scripted per call. */
export class EchoServer {
  readonly server: grpc.Server = new grpc.Server();
  readonly calls: CallRecord[] = [];
  /** Decides each call; replaces the default echo. */
  plan: (record: CallRecord, index: number) => Action = () => ({});
  port = 0;
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  readonly #held: Array<() => void> = [];
  #open = false;

  constructor(options?: grpc.ServerOptions) {
    if (options !== undefined) this.server = new grpc.Server(options);
    this.server.addService(EchoClient.service, {
      Unary: (call: grpc.ServerUnaryCall<{ text: string }, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        const record = this.#record('Unary', call);
        record.texts.push(call.request.text);
        this.#act(record, call, (action) => {
          if (failing(action)) callback(toError(action));
          else callback(null, { text: record.texts.join(',') });
        });
      },
      ClientStream: (
        call: grpc.ServerReadableStream<{ text: string }, unknown>,
        callback: grpc.sendUnaryData<unknown>,
      ) => {
        const record = this.#record('ClientStream', call);
        call.on('data', (req: { text: string }) => record.texts.push(req.text));
        call.on('end', () =>
          this.#act(record, call, (action) => {
            if (failing(action)) callback(toError(action));
            else callback(null, { text: record.texts.join(',') });
          }),
        );
      },
      ServerStream: (call: grpc.ServerWritableStream<{ text: string }, unknown>) => {
        const record = this.#record('ServerStream', call);
        record.texts.push(call.request.text);
        this.#act(record, call, (action) => this.#stream(call, record, action));
      },
      Bidi: (call: grpc.ServerDuplexStream<{ text: string }, unknown>) => {
        const record = this.#record('Bidi', call);
        call.on('data', (req: { text: string }) => record.texts.push(req.text));
        call.on('end', () => this.#act(record, call, (action) => this.#stream(call, record, action)));
      },
    });
  }

  /** Binds to 127.0.0.1 on a free port. */
  async listen(host = '127.0.0.1'): Promise<string> {
    this.port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync(`${host}:0`, grpc.ServerCredentials.createInsecure(), (err, port) =>
        err ? reject(err) : resolve(port),
      ),
    );
    return `${host}:${this.port}`;
  }

  /** Answers every held call, and from now on holds none (see {@link Action.hold}); {@link EchoServer.reset} holds again. */
  release(): void {
    this.#open = true;
    for (const answer of this.#held.splice(0)) answer();
  }

  /** Forgets the calls, answers by echoing, and holds calls again. */
  reset(): void {
    this.calls.length = 0;
    this.plan = () => ({});
    this.#open = false;
  }

  /** Stops at once (every call in flight is cancelled). */
  close(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    this.server.forceShutdown();
  }

  #record(method: string, call: ServerCall): CallRecord {
    const record: CallRecord = {
      method,
      metadata: call.metadata,
      deadline: call.getDeadline(),
      peer: call.getPeer(),
      cancelled: false,
      texts: [],
    };
    call.on('cancelled', () => {
      record.cancelled = true;
    });
    this.calls.push(record);
    return record;
  }

  #act(record: CallRecord, call: ServerCall, answer: (action: Action) => void): void {
    const action = this.plan(record, this.calls.indexOf(record));
    if (action.headers !== undefined) {
      const metadata = new grpc.Metadata();
      for (const [key, value] of Object.entries(action.headers)) metadata.set(key, value);
      (call as unknown as { sendMetadata(md: grpc.Metadata): void }).sendMetadata(metadata);
    }
    if (action.hold === true && !this.#open) {
      this.#held.push(() => {
        if (!call.cancelled) answer(action);
      });
      return;
    }
    if (action.delayMs === undefined) {
      answer(action);
      return;
    }
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      if (!call.cancelled) answer(action);
    }, action.delayMs);
    this.#timers.add(timer);
    call.on('cancelled', () => {
      clearTimeout(timer);
      this.#timers.delete(timer);
    });
  }

  #stream(call: StreamOut, record: CallRecord, action: Action): void {
    if (failing(action)) {
      for (let i = 0; i < (action.repliesBeforeFailure ?? 0); i++) call.write({ text: `partial${i}` });
      call.emit('error', toError(action));
      return;
    }
    for (const text of record.texts) call.write({ text });
    call.end();
  }
}

function failing(action: Action): boolean {
  return action.code !== undefined && action.code !== grpc.status.OK;
}

function toError(action: Action): Partial<grpc.StatusObject> {
  const metadata = new grpc.Metadata();
  for (const [key, value] of Object.entries(action.trailers ?? {})) metadata.set(key, value);
  return { code: action.code as grpc.status, details: action.details ?? 'scripted failure', metadata };
}

/** How a call ended, as the client saw it. */
export interface Outcome {
  readonly replies: string[];
  readonly error: grpc.ServiceError | undefined;
  readonly headers: grpc.Metadata | undefined;
  /** The call object, to cancel it. */
  readonly call: grpc.Call;
}

type AnyClient = grpc.Client & Record<string, (...args: unknown[]) => grpc.Call>;

/**
 * Makes one call of `kind`, sending `texts` (one for unary and server
 * streaming), and resolves when it ends. `onCall` gets the call object at once.
 */
export function invoke(
  client: grpc.Client,
  kind: Kind,
  texts: readonly string[] = ['a'],
  options: grpc.CallOptions = {},
  onCall?: (call: grpc.Call) => void,
  requestHeaders: Record<string, string> = {},
): Promise<Outcome> {
  const c = client as AnyClient;
  return new Promise((resolve) => {
    const replies: string[] = [];
    let headers: grpc.Metadata | undefined;
    let call: grpc.Call;
    const done = (error: grpc.ServiceError | null | undefined) =>
      resolve({ replies, error: error ?? undefined, headers, call });
    const onReply = (err: grpc.ServiceError | null, reply?: { text: string }) => {
      if (reply) replies.push(reply.text);
      done(err);
    };
    const metadata = new grpc.Metadata();
    for (const [key, value] of Object.entries(requestHeaders)) metadata.set(key, value);
    switch (kind) {
      case 'Unary':
        call = c.Unary?.({ text: texts[0] }, metadata, options, onReply) as grpc.Call;
        break;
      case 'ClientStream': {
        const stream = c.ClientStream?.(metadata, options, onReply) as grpc.ClientWritableStream<unknown>;
        call = stream;
        for (const text of texts) stream.write({ text });
        stream.end();
        break;
      }
      case 'ServerStream':
      case 'Bidi': {
        const stream = (
          kind === 'ServerStream'
            ? c.ServerStream?.({ text: texts[0] }, metadata, options)
            : c.Bidi?.(metadata, options)
        ) as grpc.ClientDuplexStream<unknown, { text: string }>;
        call = stream;
        if (kind === 'Bidi') {
          for (const text of texts) stream.write({ text });
          stream.end();
        }
        stream.on('data', (reply: { text: string }) => replies.push(reply.text));
        stream.on('error', (err: grpc.ServiceError) => done(err));
        stream.on('status', (status: grpc.StatusObject) => {
          if (status.code === grpc.status.OK) done(null);
        });
        break;
      }
    }
    call.on('metadata', (md: grpc.Metadata) => {
      headers = md;
    });
    onCall?.(call);
  });
}

/** A client of the Echo service at `address` with `interceptors`. */
export function echoClient(
  address: string,
  interceptors: grpc.Interceptor[],
  options: grpc.ChannelOptions = {},
): grpc.Client {
  return new EchoClient(address, grpc.credentials.createInsecure(), { interceptors, ...options });
}

/** Waits (real time, bounded) until `condition` holds. */
export async function until(condition: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`condition not met within ${ms} ms: ${condition}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** One {@link EchoServer} for a test file, and a way to make clients of it that are closed with it. */
export interface EchoFixture {
  readonly server: EchoServer;
  /** A client of the server with `interceptors`, closed after the file's tests. */
  client(...interceptors: grpc.Interceptor[]): grpc.Client;
}

/**
 * Starts an {@link EchoServer} before the file's tests, {@link EchoServer.reset resets} it before each test, and
 * closes it and every client made by {@link EchoFixture.client} after them.
 */
export function useEchoServer(): EchoFixture {
  const server = new EchoServer();
  let address = '';
  const clients: grpc.Client[] = [];
  beforeAll(async () => {
    address = await server.listen();
  });
  afterAll(() => {
    for (const c of clients) c.close();
    server.close();
  });
  beforeEach(() => {
    server.reset();
  });
  return {
    server,
    client(...interceptors) {
      const c = echoClient(address, interceptors);
      clients.push(c);
      return c;
    },
  };
}
