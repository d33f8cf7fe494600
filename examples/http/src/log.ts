import type { Logger } from '@resilience/core';

type Level = keyof Logger;

function serialise(value: unknown): unknown {
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return {
      name: value.name,
      message: value.message,
      ...(code === undefined ? {} : { code }),
      ...(value.cause === undefined ? {} : { cause: serialise(value.cause) }),
    };
  }
  return value;
}

/**
 * A structured logger for the core's `Logger` interface: one JSON object a
 * line (`time`, `level`, `msg`, then the attributes, errors as
 * `{ name, message, code, cause }`), handed to `write`. Swap in `fromPino()` from
 * `@resilience/logging` in a real service.
 */
export function jsonLogger(write: (line: string) => void, fields: Record<string, unknown> = {}): Logger {
  const log =
    (level: Level) =>
    (msg: string, attrs?: Record<string, unknown>): void => {
      const record: Record<string, unknown> = { time: new Date().toISOString(), level, msg, ...fields };
      if (attrs !== undefined) for (const [k, v] of Object.entries(attrs)) record[k] = serialise(v);
      write(`${JSON.stringify(record)}\n`);
    };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}
