import type { Rejection } from '@resilience/http';
import type { Context } from 'hono';

/** Sets one header on the context: hoisted, so writing rate-limit headers makes no closure per request. */
export function setContextHeader(c: Context, name: string, value: string): void {
  c.header(name, value);
}

/**
 * The answer of a rejection: its status and body, `Retry-After` when
 * `retryAfterSeconds` is given, and the headers already set on the context.
 */
export function rejectionResponse(
  rejection: Rejection<Context>,
  c: Context,
  error: unknown,
  retryAfterSeconds?: number,
): Response {
  const body = rejection.body(c, error);
  c.header('Content-Type', body.contentType);
  if (retryAfterSeconds !== undefined) c.header('Retry-After', String(retryAfterSeconds));
  return c.body(body.payload, rejection.statusCode as 503);
}

/**
 * The answer to a request whose client went away (or whose outer guard
 * answered already): nobody reads it. Status 499, as nginx logs a client that
 * closed the connection.
 */
export function goneResponse(): Response {
  return new Response(null, { status: 499 });
}
