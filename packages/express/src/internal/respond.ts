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
   */
  constructor(statusCode: number, body: RejectionBody | undefined, fallback: object) {
    this.statusCode = statusCode;
    if (typeof body === 'function') {
      this.#dynamic = body as (req: Request, error: unknown) => string | object;
      this.#static = undefined;
    } else {
      this.#dynamic = undefined;
      this.#static = prepare(body ?? fallback);
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
        // A throwing body function must not leave the client hanging.
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
  return { contentType: 'application/json; charset=utf-8', payload: JSON.stringify(body) };
}

/**
 * Milliseconds to a `Retry-After` value: whole seconds, rounded up, at least
 * 1; `undefined` when `ms` is unknown or not finite.
 */
export function retryAfterSeconds(ms: number | undefined): number | undefined {
  if (ms === undefined || !Number.isFinite(ms)) return undefined;
  return Math.max(1, Math.ceil(ms / 1000));
}
