import type { Logger } from '@resilience/core';

/** Logs an error through `logger` when there is one; a logger that throws changes nothing. */
export function logError(logger: Logger | undefined, msg: string, attrs: Record<string, unknown>): void {
  if (logger === undefined) return;
  try {
    logger.error(msg, attrs);
  } catch {
    // observability never changes an outcome
  }
}

/** Validates a `logger` option: `undefined`, or an object with `error()`. */
export function loggerOption(owner: string, value: unknown): Logger | undefined {
  if (value === undefined) return undefined;
  if (value === null || typeof value !== 'object' || typeof (value as { error?: unknown }).error !== 'function') {
    throw new TypeError(`${owner}: logger must be an object with debug/info/warn/error methods (console fits)`);
  }
  return value as Logger;
}
