import { describeValue } from '@resilience/core/validate';
import { refuseThenable } from './sync.js';
import type { RejectionBody } from './types.js';

/** A rejection body ready to send. */
export interface PreparedBody {
  /** The `Content-Type` header value. */
  readonly contentType: string;
  /** The body text. */
  readonly payload: string;
  /** Its length in bytes (UTF-8), for `Content-Length`. */
  readonly byteLength: number;
}

/** The UTF-8 length of `text` in bytes, without encoding it. */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else {
        bytes += 3;
      }
    } else bytes += 3;
  }
  return bytes;
}

/**
 * A string as `text/plain`, anything else as JSON. Throws a `TypeError` for
 * what JSON cannot serialise: `undefined`, a function or a symbol (for which
 * `JSON.stringify` gives no text), a BigInt or an object with a cycle.
 */
export function prepareBody(body: string | object): PreparedBody {
  const text = typeof body === 'string';
  const payload: unknown = text ? body : JSON.stringify(body);
  if (typeof payload !== 'string') {
    throw new TypeError(`a body must be a string or a JSON-serialisable value, got ${describeValue(body)}`);
  }
  return {
    contentType: text ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8',
    payload,
    byteLength: utf8Length(payload),
  };
}

const emptyBody: PreparedBody = Object.freeze(prepareBody(''));

/**
 * How a middleware answers a rejected request: a status and a body, the
 * body serialised once at construction when it is static. Each adapter
 * sends it its own way.
 *
 * @example
 * ```ts
 * const limited = new Rejection(429, options.body, { error: 'rate_limited', message: 'Too many requests.' });
 * const { contentType, payload } = limited.body(req, err);
 * ```
 */
export class Rejection<Req> {
  /** The status of the rejection. */
  readonly statusCode: number;
  readonly #static: PreparedBody | undefined;
  readonly #dynamic: ((req: Req, error: unknown) => string | object) | undefined;

  /**
   * @param statusCode - the status of the rejection
   * @param body - the user's body option, or `undefined` for `fallback`
   * @param fallback - the default body
   * @param owner - the middleware, named in the error for a static body that cannot be sent
   * @throws TypeError naming `owner`, `body` and the value when a static body cannot be sent (a symbol, a
   *   BigInt, an object with a cycle): it is refused when the middleware is built, not on every rejection
   */
  constructor(statusCode: number, body: RejectionBody<Req> | undefined, fallback: object, owner = 'Rejection') {
    this.statusCode = statusCode;
    if (typeof body === 'function') {
      this.#dynamic = body as (req: Req, error: unknown) => string | object;
      this.#static = undefined;
    } else {
      this.#dynamic = undefined;
      try {
        this.#static = prepareBody(body ?? fallback);
      } catch (err) {
        throw new TypeError(
          `${owner}: body must be a string, a JSON-serialisable object or a function (req, error) => either, got ${describeValue(body)}`,
          { cause: err },
        );
      }
    }
  }

  /**
   * The body for one rejection; never throws. A body function that throws,
   * returns a promise (its rejection is handled) or something JSON cannot
   * serialise (`undefined`, a symbol, a BigInt, a cycle) gives an empty
   * body: the client must not be left hanging.
   */
  body(req: Req, error: unknown): PreparedBody {
    if (this.#static !== undefined) return this.#static;
    try {
      const body = (this.#dynamic as (req: Req, error: unknown) => string | object)(req, error);
      refuseThenable('body', 'the body function', body);
      return prepareBody(body);
    } catch {
      return emptyBody;
    }
  }
}
