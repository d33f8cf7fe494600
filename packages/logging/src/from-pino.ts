import type { Logger } from '@resilience/core';

/** The log levels of the core's `Logger`. */
type Level = keyof Logger;

/**
 * The part of a pino logger that {@link fromPino} uses. A `pino()` logger
 * (v9 or v10) or any of its children fits.
 */
export interface PinoLike {
  /** Whether a record at `level` would be written. */
  isLevelEnabled(level: string): boolean;
  /** A logger that adds `bindings` to each record. */
  child(bindings: Record<string, unknown>): PinoLike;
  /** Logs `obj` with `msg` at debug level. */
  debug(obj: object, msg?: string): void;
  /** Logs `obj` with `msg` at info level. */
  info(obj: object, msg?: string): void;
  /** Logs `obj` with `msg` at warn level. */
  warn(obj: object, msg?: string): void;
  /** Logs `obj` with `msg` at error level. */
  error(obj: object, msg?: string): void;
}

/** The attribute that names a pattern's kind, as every pattern logs it. */
const PATTERN = 'resilience.pattern';
/** The attribute that carries a pattern's `name`, as every pattern logs it. */
const NAME = 'resilience.name';
/** Beyond this many pattern instances, records go to the root logger with their attributes as they are. */
const MAX_CHILDREN = 1000;

function check(logger: unknown): PinoLike {
  const candidate = logger as Partial<PinoLike> | null;
  const missing =
    candidate === null || typeof candidate !== 'object'
      ? 'an object'
      : (['child', 'isLevelEnabled', 'debug', 'info', 'warn', 'error'] as const).find(
          (method) => typeof candidate[method] !== 'function',
        );
  if (missing !== undefined) {
    const got = candidate === null ? 'null' : typeof candidate;
    throw new TypeError(
      `fromPino: logger must be a pino logger, got ${got}${missing === 'an object' ? '' : ` without ${missing}()`}`,
    );
  }
  return candidate as PinoLike;
}

/** `attrs` without the two bound keys, with an `error` moved to pino's `err`. */
function fieldsOf(attrs: Record<string, unknown>, bound: boolean): object {
  const movesError = attrs.err === undefined && attrs.error instanceof Error;
  if (!bound && !movesError) return attrs;
  const fields: Record<string, unknown> = {};
  for (const key of Object.keys(attrs)) {
    if (bound && (key === PATTERN || key === NAME)) continue;
    const value = attrs[key];
    if (movesError && key === 'error') fields.err = value;
    // An own `__proto__` key (from JSON.parse) stays a field, never the prototype.
    else if (key === '__proto__') Object.defineProperty(fields, key, { value, enumerable: true, writable: true });
    else fields[key] = value;
  }
  return fields;
}

/**
 * A core `Logger` that writes through pino, the pino way: the attributes
 * object first and the message second, errors under `err` (so pino's error
 * serializer shows type, message and stack), and one child logger per pattern
 * instance whose bindings carry `resilience.pattern` and `resilience.name` (the
 * span attribute names, so logs, traces and metrics line up). The attributes
 * of a record are only looked at when pino would write it: a disabled level
 * costs one `isLevelEnabled` check.
 *
 * The children follow the root logger's level, also when it changes later
 * (pino hands a level change on to children).
 *
 * @param logger - a `pino()` logger or one of its children
 * @throws TypeError when `logger` is not pino-like
 * @example
 * ```ts
 * import pino from 'pino';
 * import { CircuitBreaker } from '@resilience/core';
 * import { fromPino } from '@resilience/logging';
 *
 * const logger = fromPino(pino());
 * const breaker = new CircuitBreaker({ name: 'payments', logger });
 * // {"level":40,…,"resilience.pattern":"circuit_breaker","resilience.name":"payments",
 * //  "resilience.circuit_breaker.from":"closed","resilience.circuit_breaker.state":"open","msg":"circuit breaker state changed"}
 * ```
 */
export function fromPino(logger: PinoLike): Logger {
  const root = check(logger);
  const children = new Map<string, Map<string, PinoLike>>();
  let childCount = 0;

  function childFor(pattern: string, name: string): PinoLike | undefined {
    let byName = children.get(pattern);
    let child = byName?.get(name);
    if (child === undefined) {
      if (childCount >= MAX_CHILDREN) return undefined;
      child = root.child({ [PATTERN]: pattern, [NAME]: name });
      if (byName === undefined) {
        byName = new Map();
        children.set(pattern, byName);
      }
      byName.set(name, child);
      childCount++;
    }
    return child;
  }

  function writer(level: Level): (msg: string, attrs?: Record<string, unknown>) => void {
    return (msg, attrs) => {
      if (!root.isLevelEnabled(level)) return;
      if (attrs === undefined || attrs === null) {
        root[level]({}, msg);
        return;
      }
      const pattern = attrs[PATTERN];
      const name = attrs[NAME];
      const child = typeof pattern === 'string' && typeof name === 'string' ? childFor(pattern, name) : undefined;
      if (child === undefined) root[level](fieldsOf(attrs, false), msg);
      else child[level](fieldsOf(attrs, true), msg);
    };
  }

  return { debug: writer('debug'), info: writer('info'), warn: writer('warn'), error: writer('error') };
}
