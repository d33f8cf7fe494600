import {
  type Context,
  context,
  propagation,
  type TextMapGetter,
  type TextMapPropagator,
  type TextMapSetter,
} from '@opentelemetry/api';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';

/** Options of {@link setupPropagation}. */
export interface SetupPropagationOptions {
  /**
   * Replace a global propagator that something else (an SDK, another
   * library) installed. Without it, finding one is an error rather than a
   * silent no-op, because OpenTelemetry ignores a second registration.
   * @default false
   */
  override?: boolean | undefined;
}

const FIELDS = ['traceparent', 'tracestate', 'baggage'];

/**
 * Installs W3C TraceContext (`traceparent`, `tracestate`) and W3C Baggage
 * (`baggage`) as OpenTelemetry's global propagator. `NodeSDK` installs the
 * same pair by default; call this when you assemble the SDK yourself. When
 * the global propagator already carries those three fields (installed by an
 * SDK or an earlier call), it is left as it is.
 *
 * @returns the global propagation API, which propagates through what is installed
 * @throws Error when a different global propagator is installed and `override` is not set
 * @example
 * ```ts
 * import { setupPropagation } from '@resilience/otel';
 * setupPropagation();
 * ```
 */
export function setupPropagation(options?: SetupPropagationOptions): TextMapPropagator {
  if (options !== undefined && (options === null || typeof options !== 'object')) {
    throw new TypeError(
      `setupPropagation: options must be an object, got ${options === null ? 'null' : typeof options}`,
    );
  }
  for (const key of Object.keys(options ?? {})) {
    if (key !== 'override') throw new TypeError(`setupPropagation: unknown option "${key}"`);
  }
  const override = options?.override ?? false;
  if (typeof override !== 'boolean') {
    throw new TypeError(`setupPropagation: override must be a boolean, got ${typeof override}`);
  }
  const propagator = new CompositePropagator({
    propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
  });
  if (propagation.setGlobalPropagator(propagator)) return propagation;
  const present = propagation.fields();
  if (FIELDS.every((field) => present.includes(field))) return propagation;
  if (!override) {
    throw new Error(
      `setupPropagation: a global propagator with fields [${present.join(', ')}] is already installed ` +
        '(by an SDK or another library); pass { override: true } to replace it',
    );
  }
  propagation.disable();
  propagation.setGlobalPropagator(propagator);
  return propagation;
}

/**
 * Outgoing HTTP headers: a plain object, `[name, value]` pairs (fetch's other `HeadersInit`), a web `Headers`, or
 * anything with `set(name, value)` or `setHeader(name, value)` (Node's `ClientRequest`).
 */
export type HeadersCarrier =
  | Record<string, unknown>
  | [string, string][]
  | { set(name: string, value: string): unknown }
  | { setHeader(name: string, value: string): unknown };

/** Incoming HTTP headers: Node's `req.headers` (lower-case keys, strings or arrays), a plain object, or a web `Headers`. */
export type IncomingHeaders = Readonly<Record<string, unknown>> | { get(name: string): string | null };

/** The part of `@grpc/grpc-js`'s `Metadata` the helpers use. */
export interface MetadataLike {
  /** Every value stored under `key` (grpc-js returns strings and Buffers). */
  get(key: string): readonly unknown[];
  /** Replaces the values of `key` with `value`. */
  set(key: string, value: string): unknown;
  /** All keys with their first value (grpc-js has it). */
  getMap?(): Readonly<Record<string, unknown>>;
}

/** Throws unless `ctx` is an OpenTelemetry `Context`. */
function checkContext(owner: string, ctx: unknown): void {
  if (ctx === null || typeof ctx !== 'object' || typeof (ctx as Partial<Context>).getValue !== 'function') {
    throw new TypeError(`${owner}: ctx must be an OpenTelemetry Context, got ${ctx === null ? 'null' : typeof ctx}`);
  }
}

function carrierError(owner: string, field: string, value: unknown): TypeError {
  return new TypeError(`${owner}: ${field} must be an object, got ${value === null ? 'null' : typeof value}`);
}

function stringsOf(value: unknown): string | string[] | undefined {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) {
    const strings = value.filter((v): v is string => typeof v === 'string');
    return strings.length === 0 ? undefined : strings;
  }
  return undefined;
}

/** Reads Node header objects (exact key first, then case-insensitively) and web `Headers`. */
const headersGetter: TextMapGetter<IncomingHeaders> = {
  keys(carrier) {
    if (typeof (carrier as { keys?: unknown }).keys === 'function' && typeof carrier.get === 'function') {
      return [...(carrier as unknown as Headers).keys()];
    }
    return Object.keys(carrier);
  },
  get(carrier, key) {
    if (typeof carrier.get === 'function')
      return (carrier as { get(name: string): string | null }).get(key) ?? undefined;
    const record = carrier as Readonly<Record<string, unknown>>;
    const exact = stringsOf(record[key]);
    if (exact !== undefined) return exact;
    for (const name of Object.keys(record)) if (name.toLowerCase() === key) return stringsOf(record[name]);
    return undefined;
  },
};

const metadataGetter: TextMapGetter<MetadataLike> = {
  keys(carrier) {
    return typeof carrier.getMap === 'function' ? Object.keys(carrier.getMap()) : [];
  },
  get(carrier, key) {
    return stringsOf(carrier.get(key));
  },
};

/**
 * Writes the trace context (and baggage) of `ctx` into outgoing HTTP
 * headers through the global propagator, and returns the carrier.
 *
 * @param headers - where to write; a new plain object when omitted
 * @param ctx - whose span and baggage to carry @default the active context
 * @example
 * ```ts
 * await fetch(url, { headers: injectHttpHeaders({ accept: 'application/json' }) });
 * http.get(url, { headers: injectHttpHeaders() });
 * ```
 */
export function injectHttpHeaders<H extends HeadersCarrier = Record<string, string>>(
  headers?: H,
  ctx: Context = context.active(),
): H {
  const carrier = headers ?? ({} as H);
  if (carrier === null || typeof carrier !== 'object') throw carrierError('injectHttpHeaders', 'headers', carrier);
  checkContext('injectHttpHeaders', ctx);
  propagation.inject(ctx, carrier, headersSetter);
  return carrier;
}

/** Whether `name` is `key` in another case (the propagators' keys are lower case). */
function sameHeader(name: unknown, key: string): boolean {
  return typeof name === 'string' && name !== key && name.length === key.length && name.toLowerCase() === key;
}

/**
 * Writes one header, replacing the value it had under any case: fetch sends both `Traceparent` and `traceparent`
 * of a plain object as one comma-joined header, which no receiver can parse.
 */
const headersSetter: TextMapSetter<HeadersCarrier> = {
  set(target, key, value) {
    const c = target as { set?: unknown; setHeader?: unknown };
    if (typeof c.setHeader === 'function') {
      (target as { setHeader(n: string, v: string): unknown }).setHeader(key, value);
    } else if (typeof c.set === 'function') {
      (target as { set(n: string, v: string): unknown }).set(key, value);
    } else if (Array.isArray(target)) {
      // [name, value] pairs: a property set on the array would never be sent.
      const pairs = target as unknown[];
      for (let i = pairs.length - 1; i >= 0; i--) {
        const pair = pairs[i];
        if (Array.isArray(pair) && (pair[0] === key || sameHeader(pair[0], key))) pairs.splice(i, 1);
      }
      pairs.push([key, value]);
    } else {
      const record = target as Record<string, unknown>;
      for (const name of Object.keys(record)) if (sameHeader(name, key)) delete record[name];
      record[key] = value;
    }
  },
};

/**
 * Reads the trace context (and baggage) of an incoming request's headers
 * through the global propagator. Run the handler inside the returned
 * context so that its spans are children of the caller's.
 *
 * @param headers - `req.headers` or a web `Headers`; the request itself (Node's `IncomingMessage`, a web
 *   `Request`) is read through its `headers`
 * @param ctx - the context to extend @default the active context
 * @example
 * ```ts
 * http.createServer((req, res) => context.with(extractHttpHeaders(req.headers), () => handle(req, res)));
 * ```
 */
export function extractHttpHeaders(
  headers: IncomingHeaders | { readonly headers: IncomingHeaders },
  ctx: Context = context.active(),
): Context {
  if (headers === null || typeof headers !== 'object') throw carrierError('extractHttpHeaders', 'headers', headers);
  checkContext('extractHttpHeaders', ctx);
  return propagation.extract(ctx, headersOf(headers), headersGetter);
}

/**
 * The headers of a request passed where its headers were meant (`extractHttpHeaders(req)`): read as a header
 * record, a Node request has no `traceparent` key, and the trace would be lost without a word. A header record
 * never holds an object (its values are strings or arrays), and Express's `req.get()` already reads headers.
 */
function headersOf(carrier: object): IncomingHeaders {
  if (typeof (carrier as { get?: unknown }).get !== 'function') {
    const inner: unknown = (carrier as { headers?: unknown }).headers;
    if (inner !== null && typeof inner === 'object' && !Array.isArray(inner)) return inner as IncomingHeaders;
  }
  return carrier as IncomingHeaders;
}

/**
 * Writes the trace context (and baggage) of `ctx` into gRPC metadata (a
 * `@grpc/grpc-js` `Metadata`), and returns it. Use it in a client
 * interceptor's `start`, or on the metadata you pass to a call.
 *
 * @param metadata - the call's metadata
 * @param ctx - whose span and baggage to carry @default the active context
 */
export function injectGrpcMetadata<M extends MetadataLike>(metadata: M, ctx: Context = context.active()): M {
  if (metadata === null || typeof metadata !== 'object' || typeof metadata.set !== 'function') {
    throw new TypeError(`injectGrpcMetadata: metadata must be a grpc Metadata (with set()), got ${typeof metadata}`);
  }
  checkContext('injectGrpcMetadata', ctx);
  propagation.inject(ctx, metadata, {
    set(target, key, value) {
      target.set(key, value);
    },
  });
  return metadata;
}

/**
 * Reads the trace context (and baggage) of incoming gRPC metadata
 * (`call.metadata` in a grpc-js handler).
 *
 * @param metadata - the call's metadata
 * @param ctx - the context to extend @default the active context
 */
export function extractGrpcMetadata(metadata: MetadataLike, ctx: Context = context.active()): Context {
  if (metadata === null || typeof metadata !== 'object' || typeof metadata.get !== 'function') {
    throw new TypeError(`extractGrpcMetadata: metadata must be a grpc Metadata (with get()), got ${typeof metadata}`);
  }
  checkContext('extractGrpcMetadata', ctx);
  return propagation.extract(ctx, metadata, metadataGetter);
}
