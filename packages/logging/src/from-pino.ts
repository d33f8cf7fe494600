import type { Logger, PolicyRegistry, Subscription } from '@resilience/core';

/** The log levels of the core's `Logger`. */
type Level = keyof Logger;

/**
 * The part of a pino logger that {@link fromPino} uses. A `pino()` logger
 * (v9 or v10) or any of its children fits.
 */
export interface PinoLike {
  /** The current level's name. Pino 9 children keep the level they were made with, so the adapter syncs it. */
  level: string;
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

/** Options of {@link fromPino}. */
export interface FromPinoOptions {
  /**
   * A `PolicyRegistry` of `@resilience/core` whose every policy logs through
   * this logger: those it holds now and those created in it later (through
   * `policies.attach({ logger })`). A policy keeps its own logger as well
   * (the same logger, or another `fromPino()` of the same pino logger,
   * writes once). `dispose()` the returned logger to stop.
   * @default none: only patterns given the logger as `logger` write to it
   */
  readonly policies?: Pick<PolicyRegistry, 'attach'> | undefined;
}

/** What {@link fromPino} returns: a core `Logger` that can detach from the registry it was attached to. */
export interface PinoLogger extends Logger {
  /**
   * Stops the policies of the `policies` option from logging here (removes
   * this logger, and only it, from each). A pattern given this logger in its
   * own config keeps it. Without `policies`, or a second time, it does nothing.
   */
  dispose(): void;
  /** The same as `dispose()`, for `using`. */
  [Symbol.dispose](): void;
}

function checkOptions(options: unknown): FromPinoOptions {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`fromPino: options must be an object, got ${options === null ? 'null' : typeof options}`);
  }
  for (const key of Object.keys(options)) {
    if (key !== 'policies') throw new TypeError(`fromPino: unknown option ${JSON.stringify(key)} (known: policies)`);
  }
  const { policies } = options as FromPinoOptions;
  if (
    policies !== undefined &&
    (policies === null || typeof policies !== 'object' || typeof policies.attach !== 'function')
  ) {
    throw new TypeError(
      `fromPino: policies must be a PolicyRegistry of @resilience/core (with attach()), got ${policies === null ? 'null' : typeof policies}`,
    );
  }
  return options as FromPinoOptions;
}

/** The attribute that names a pattern's kind, as every pattern logs it. */
/** The key under which the core's `combineLoggers` finds where a logger writes. */
const SINK = Symbol.for('@resilience/core.sink');

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

/**
 * `attrs` without the two bound keys, with an `error` moved to pino's `err`,
 * and without an own `__proto__` key (from `JSON.parse`): pino 9 throws on
 * one, and copying it would set the copy's prototype.
 */
function fieldsOf(attrs: Record<string, unknown>, bound: boolean): object {
  const movesError = attrs.err === undefined && attrs.error instanceof Error;
  const hasProto = Object.hasOwn(attrs, '__proto__');
  if (!bound && !movesError && !hasProto) return attrs;
  const fields: Record<string, unknown> = {};
  for (const key of Object.keys(attrs)) {
    if (key === '__proto__' || (bound && (key === PATTERN || key === NAME))) continue;
    if (movesError && key === 'error') fields.err = attrs.error;
    else fields[key] = attrs[key];
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
 * (pino 9 children would keep the level they were made with).
 *
 * With `policies` (a core `PolicyRegistry`), every policy of the registry,
 * now and later, logs through it too; `dispose()` the result to stop.
 *
 * @param logger - a `pino()` logger or one of its children
 * @param options - see {@link FromPinoOptions}
 * @throws TypeError when `logger` is not pino-like or an option is invalid; Error when `policies` is closed
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
 *
 * // Or every policy of a PolicyRegistry, now and later:
 * const policies = new PolicyRegistry();
 * using forAll = fromPino(pino(), { policies });
 * ```
 */
export function fromPino(logger: PinoLike, options?: FromPinoOptions): PinoLogger {
  const root = check(logger);
  const { policies } = checkOptions(options);
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
    // Pino 10 hands a level change of the root on to its children; pino 9 does not.
    if (child.level !== root.level) child.level = root.level;
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

  let attachment: Subscription | undefined;
  const dispose = (): void => {
    const current = attachment;
    attachment = undefined;
    current?.dispose();
  };
  const result: PinoLogger = {
    debug: writer('debug'),
    info: writer('info'),
    warn: writer('warn'),
    error: writer('error'),
    dispose,
    [Symbol.dispose]: dispose,
  };
  // Two adapters of one pino logger write to the same place: the core's combineLoggers (behind a PolicyRegistry's
  // attach()) keeps one of them, so a policy with its own fromPino(log) and an attached one logs each record once.
  Object.defineProperty(result, SINK, { value: root });
  attachment = policies?.attach({ logger: result });
  return result;
}
