import { AdaptiveBulkhead } from '../adaptive-bulkhead/adaptive-bulkhead.js';
import { AdaptiveThrottle } from '../adaptive-throttle/adaptive-throttle.js';
import { Bulkhead } from '../bulkhead/bulkhead.js';
import { Chaos } from '../chaos/chaos.js';
import { CircuitBreaker } from '../circuit-breaker/circuit-breaker.js';
import { isClassifier } from '../classify/classifier.js';
import { Hedging } from '../hedging/hedging.js';
import { knownOptions } from '../internal/update.js';
import { describeValue } from '../internal/validate.js';
import { RECORDER_METHODS } from '../observability/attachments.js';
import { RateLimiter } from '../rate-limiter/rate-limiter.js';
import { Retry } from '../retry/retry.js';
import { Timeout } from '../timeout/timeout.js';
import type { ConfigurableKind, PolicyKind, PolicyRegistryConfig } from './types.js';

/** The owner named in configuration errors. */
export const OWNER = 'PolicyRegistry.configure';

/** The owner named in errors of the registry's get-or-create methods. */
export const CREATE_OWNER = 'PolicyRegistry';

/** The kinds `configure()` knows, in the order of their sections. */
export const configurableKinds: readonly ConfigurableKind[] = [
  'circuitBreaker',
  'retry',
  'timeout',
  'bulkhead',
  'rateLimiter',
  'adaptiveBulkhead',
  'adaptiveThrottle',
  'hedging',
  'chaos',
];

/** Every kind a registry holds. */
export const policyKinds: readonly PolicyKind[] = [...configurableKinds, 'pipeline'];

/** The kinds `health()` counts, so the only ones a `critical` entry may name. */
const HEALTH_KINDS: readonly PolicyKind[] = ['circuitBreaker', 'bulkhead', 'adaptiveBulkhead', 'adaptiveThrottle'];

/** How each kind is named in messages. */
export const kindLabel: Readonly<Record<PolicyKind, string>> = {
  circuitBreaker: 'circuit breaker',
  retry: 'retry',
  timeout: 'timeout',
  bulkhead: 'bulkhead',
  rateLimiter: 'rate limiter',
  adaptiveBulkhead: 'adaptive bulkhead',
  adaptiveThrottle: 'adaptive throttle',
  hedging: 'hedging policy',
  chaos: 'chaos policy',
  pipeline: 'pipeline',
};

/** Options a config file may not set: they identify a policy or cannot change at run time. */
const NOT_CONFIGURABLE = ['name', 'clock', 'initialState'];

/** The kind's label with its article: "a circuit breaker", "an adaptive bulkhead". */
export function aKind(kind: PolicyKind): string {
  const label = kindLabel[kind];
  return `${/^[aeiou]/.test(label) ? 'an' : 'a'} ${label}`;
}

/** A plain object of options. */
export type Options = Readonly<Record<string, unknown>>;

/** A checked `configure()` argument: options per kind (defaults) and per kind and name. */
export interface CheckedConfig {
  /** Defaults per kind. */
  readonly defaults: Readonly<Partial<Record<ConfigurableKind, Options>>>;
  /** Settings per kind and name. */
  readonly named: Readonly<Partial<Record<ConfigurableKind, ReadonlyMap<string, Options>>>>;
  /** `"kind.name"` of the critical policies. */
  readonly critical: ReadonlySet<string>;
}

/** The empty configuration, before any `configure()`. */
export const emptyConfig: CheckedConfig = { defaults: {}, named: {}, critical: new Set() };

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function fail(path: string, problem: string): never {
  throw new TypeError(`${OWNER}: ${path} ${problem}`);
}

/** `"Infinity"` (which JSON can carry) becomes `Infinity`, here and inside a `window`. */
function revive(value: unknown): unknown {
  if (value === 'Infinity') return Number.POSITIVE_INFINITY;
  // Only what JSON makes: an Error, a logger or a recorder of some class given in code stays as it is.
  if (isPlainObject(value) && [Object.prototype, null].includes(Object.getPrototypeOf(value))) {
    // fromEntries defines own properties: a "__proto__" key from JSON stays data, never a prototype.
    return Object.fromEntries(
      Object.entries(value).map(([key, inner]) => [key, inner === 'Infinity' ? Number.POSITIVE_INFINITY : inner]),
    );
  }
  return value;
}

/** Checks the option names of one section and revives its values; throws a `TypeError` with the path. */
function options(kind: ConfigurableKind, path: string, value: unknown): Options {
  if (!isPlainObject(value)) fail(path, `must be an object of ${kindLabel[kind]} options, got ${describeValue(value)}`);
  const known = knownOptions[kind];
  const checked: Record<string, unknown> = {};
  for (const [key, option] of Object.entries(value)) {
    if (!known.includes(key)) fail(`${path}.${key}`, `is not an option of ${aKind(kind)}`);
    if (NOT_CONFIGURABLE.includes(key)) fail(`${path}.${key}`, 'cannot be set by configure()');
    const value = revive(option);
    checkCodeOnly(kind, `${path}.${key}`, key, value);
    checked[key] = value;
  }
  return checked;
}

const LOGGER_METHODS = ['debug', 'info', 'warn', 'error'];

/** Whether `value` is an object with all of `methods` (or, with `some`, at least one of them) as functions. */
function hasMethods(value: unknown, methods: readonly string[], some = false): boolean {
  if (value === null || typeof value !== 'object') return false;
  const isMethod = (method: string): boolean => typeof (value as Record<string, unknown>)[method] === 'function';
  return some ? methods.some(isMethod) : methods.every(isMethod);
}

/**
 * Refuses, with its path, a value for an option that only code can give (a
 * logger, a tracer, a metrics recorder, a chaos fault) when it is not one:
 * what JSON carries there (`{}`, a string) would otherwise be accepted by a
 * lenient check (a recorder with no methods) or do something else than meant
 * (a chaos fault thrown as a bare string).
 */
function checkCodeOnly(kind: ConfigurableKind, path: string, key: string, value: unknown): void {
  if (value === undefined) return;
  let expected: string | undefined;
  if (key === 'logger' && !hasMethods(value, LOGGER_METHODS)) {
    expected = 'a Logger with debug(), info(), warn() and error() methods';
  } else if (key === 'tracer' && !hasMethods(value, ['startActiveSpan'])) {
    expected = 'an OpenTelemetry Tracer (with startActiveSpan())';
  } else if (key === 'metrics' && !hasMethods(value, RECORDER_METHODS, true)) {
    // A recorder may implement only some methods, but one with none (the {} of a JSON file) records nothing.
    expected = 'a MetricsRecorder (with recordCircuitBreakerState(), recordTimeout() and the other record…() methods)';
  } else if (key === 'handle' && !isClassifier(value)) {
    fail(
      path,
      `must be a classifier (handle(), handleWhen(), handleAll() or handleResult()), which JSON cannot carry: give handle in the policy's config in code, got ${describeValue(value)}`,
    );
  } else if (kind === 'chaos' && key === 'fault' && !(value instanceof Error) && typeof value !== 'function') {
    fail(
      path,
      `must be an Error, or a function making one, which JSON cannot carry: give the fault in the policy's config in code, got ${describeValue(value)}`,
    );
  }
  if (expected !== undefined) {
    fail(
      path,
      `must be ${expected}, which JSON cannot carry: give it in code (new PolicyRegistry({ ${key} }), or the policy's config), got ${describeValue(value)}`,
    );
  }
}

/** Options a kind cannot be built without, so that defaults can be checked on their own. */
const REQUIRED: Readonly<Partial<Record<ConfigurableKind, Options>>> = {
  bulkhead: { maxConcurrent: 1 },
  rateLimiter: { rate: 1 },
  hedging: { delay: 0 },
  chaos: { rate: 0, latency: 1 },
};

/**
 * Checks the values of a section that no live policy takes yet, by building a
 * throwaway policy from them (nothing observable: no logger, tracer or metrics).
 */
export function checkValues(kind: ConfigurableKind, path: string, values: Options): void {
  const config = { ...REQUIRED[kind], ...values, logger: undefined, tracer: undefined, metrics: undefined } as never;
  try {
    if (kind === 'circuitBreaker') new CircuitBreaker(config);
    else if (kind === 'retry') new Retry(config);
    else if (kind === 'timeout') new Timeout(config);
    else if (kind === 'bulkhead') new Bulkhead(config);
    else if (kind === 'rateLimiter') new RateLimiter(config);
    else if (kind === 'adaptiveBulkhead') new AdaptiveBulkhead(config);
    else if (kind === 'adaptiveThrottle') new AdaptiveThrottle(config);
    else if (kind === 'hedging') new Hedging(config);
    else new Chaos(config);
  } catch (err) {
    throw withPath(path, err);
  }
}

/**
 * `err` with `owner: path: ` before its message, of the same class, `err` as
 * its cause. `owner` is `PolicyRegistry.configure` for what `configure()`
 * checks, `PolicyRegistry` for a policy the get-or-create methods build.
 */
export function withPath(path: string, err: unknown, owner: string = OWNER): unknown {
  if (!(err instanceof Error)) return err;
  const Class = err instanceof RangeError ? RangeError : TypeError;
  return new Class(`${owner}: ${path}: ${err.message}`, { cause: err });
}

/**
 * Checks the shape of a `configure()` argument: known sections, kinds and
 * option names, names that exist (`exists`), `critical` entries. Values are
 * checked later, against each policy they apply to.
 */
export function checkShape(
  config: PolicyRegistryConfig,
  exists: (kind: PolicyKind, name: string) => boolean,
  allowUnknownNames: boolean,
): CheckedConfig {
  if (!isPlainObject(config)) throw new TypeError(`${OWNER}: config must be an object, got ${describeValue(config)}`);
  const proto = Object.getPrototypeOf(config);
  if (proto !== Object.prototype && proto !== null) {
    // A Map (or a YAML library's document object) has no own keys: it would configure nothing, silently.
    const kind = (proto as { constructor?: { name?: unknown } }).constructor?.name;
    throw new TypeError(
      `${OWNER}: config must be a plain object (as JSON.parse gives), got ${typeof kind === 'string' && kind !== '' ? `a ${kind}` : describeValue(config)}`,
    );
  }
  const defaults: Partial<Record<ConfigurableKind, Options>> = {};
  const named: Partial<Record<ConfigurableKind, Map<string, Options>>> = {};
  const critical = new Set<string>();
  const nameExists = (kind: PolicyKind, name: string, path: string): void => {
    if (!allowUnknownNames && !exists(kind, name)) {
      fail(path, `names no ${kindLabel[kind]} of the registry (create it first, or pass { allowUnknownNames: true })`);
    }
  };
  for (const [section, value] of Object.entries(config)) {
    if (value === undefined) continue;
    if (section === 'defaults') {
      if (!isPlainObject(value)) fail('defaults', `must be an object, got ${describeValue(value)}`);
      for (const [kind, values] of Object.entries(value)) {
        if (!(configurableKinds as readonly string[]).includes(kind))
          fail(`defaults.${kind}`, 'is not a kind of policy');
        const k = kind as ConfigurableKind;
        defaults[k] = options(k, `defaults.${kind}`, values);
      }
    } else if (section === 'critical') {
      if (!Array.isArray(value))
        fail('critical', `must be an array of "kind.name" strings, got ${describeValue(value)}`);
      value.forEach((entry: unknown, index: number) => {
        const path = `critical[${index}]`;
        const dot = typeof entry === 'string' ? entry.indexOf('.') : -1;
        const kind = typeof entry === 'string' ? entry.slice(0, dot) : '';
        if (dot < 1 || !(policyKinds as readonly string[]).includes(kind)) {
          fail(path, `must be "kind.name" with a kind of policy, got ${describeValue(entry)}`);
        }
        if (!(HEALTH_KINDS as readonly string[]).includes(kind)) {
          // Accepted, it would do nothing: an operator would believe readiness follows that policy.
          fail(
            path,
            `must name a circuit breaker, bulkhead, adaptive bulkhead or adaptive throttle (health() counts no other kind), got ${describeValue(entry)} (${aKind(kind as PolicyKind)})`,
          );
        }
        nameExists(kind as PolicyKind, (entry as string).slice(dot + 1), path);
        critical.add(entry as string);
      });
    } else if ((configurableKinds as readonly string[]).includes(section)) {
      const kind = section as ConfigurableKind;
      if (!isPlainObject(value)) fail(section, `must be an object of ${kindLabel[kind]} settings by name`);
      const byName = new Map<string, Options>();
      for (const [name, values] of Object.entries(value)) {
        nameExists(kind, name, `${section}.${name}`);
        byName.set(name, options(kind, `${section}.${name}`, values));
      }
      named[kind] = byName;
    } else {
      fail(section, 'is not a section of the registry config (defaults, critical, or a kind of policy)');
    }
  }
  return { defaults, named, critical };
}
