import { describeValue } from '@resilience/core/validate';
import type { Request, Response } from 'express';
import type { RejectionBody } from '../types.js';

/** A body ready to send: serialised once at construction when it is static. */
interface PreparedBody {
  readonly contentType: string;
  readonly payload: string;
}

/** How a middleware answers a rejected request: status plus body, prepared at construction. */
export class Rejection {
  readonly statusCode: number;
  readonly #static: PreparedBody | undefined;
  readonly #dynamic: ((req: Request, error: unknown) => string | object) | undefined;

  /**
   * @param statusCode - the status of the rejection
   * @param body - the user's body option, or `undefined` for `fallback`
   * @param fallback - the default body
   * @param owner - the middleware, named in the error for a body that cannot be sent
   */
  constructor(statusCode: number, body: RejectionBody | undefined, fallback: object, owner: string) {
    this.statusCode = statusCode;
    if (typeof body === 'function') {
      this.#dynamic = body as (req: Request, error: unknown) => string | object;
      this.#static = undefined;
    } else {
      this.#dynamic = undefined;
      try {
        this.#static = prepare(body ?? fallback);
      } catch (err) {
        throw new TypeError(
          `${owner}: body must be a string, a JSON-serialisable object or a function (req, error) => either, got ${describeValue(body)}`,
          { cause: err },
        );
      }
    }
  }

  /**
   * Answers with the rejection (and `Retry-After` when `retryAfterSeconds`
   * is given) unless something was already sent.
   */
  send(req: Request, res: Response, error: unknown, retryAfterSeconds?: number): void {
    if (res.headersSent) return;
    let body = this.#static;
    if (body === undefined) {
      try {
        body = prepare((this.#dynamic as (req: Request, error: unknown) => string | object)(req, error));
      } catch {
        // A body function that throws, or gives what cannot be sent (undefined, a BigInt, a cycle), must not
        // leave the client hanging: the status goes out with an empty body.
        body = prepare('');
      }
    }
    res.statusCode = this.statusCode;
    if (retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(retryAfterSeconds));
    res.setHeader('Content-Type', body.contentType);
    res.setHeader('Content-Length', Buffer.byteLength(body.payload));
    res.end(body.payload);
  }
}

function prepare(body: string | object): PreparedBody {
  if (typeof body === 'string') return { contentType: 'text/plain; charset=utf-8', payload: body };
  const payload: unknown = JSON.stringify(body);
  // JSON.stringify gives undefined for undefined, a function or a symbol: no JSON to send.
  if (typeof payload !== 'string') throw new TypeError(`a body must be a string or a JSON-serialisable object`);
  return { contentType: 'application/json; charset=utf-8', payload };
}

/**
 * Milliseconds to a `Retry-After` value: whole seconds, rounded up, at least
 * 1; `undefined` when `ms` is unknown or not finite.
 */
export function retryAfterSeconds(ms: number | undefined): number | undefined {
  if (ms === undefined || !Number.isFinite(ms)) return undefined;
  return Math.max(1, Math.ceil(ms / 1000));
}
