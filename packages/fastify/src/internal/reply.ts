import type { Rejection } from '@resilience/http';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** Sets one header on a reply: hoisted, so writing rate-limit headers makes no closure per request. */
export function setReplyHeader(reply: FastifyReply, name: string, value: string): void {
  reply.header(name, value);
}

/**
 * Answers with `rejection` (and `Retry-After` when `retryAfterSeconds` is
 * given) unless something was already sent.
 */
export function sendRejection(
  rejection: Rejection<FastifyRequest>,
  request: FastifyRequest,
  reply: FastifyReply,
  error: unknown,
  retryAfterSeconds?: number,
): void {
  if (reply.sent || reply.raw.headersSent) return;
  const body = rejection.body(request, error);
  reply.code(rejection.statusCode);
  if (retryAfterSeconds !== undefined) reply.header('Retry-After', String(retryAfterSeconds));
  reply.header('Content-Type', body.contentType);
  reply.send(body.payload);
}
