import { describeValue } from '../internal/validate.js';
import { combineLoggers, combineRecorders, combineTracers } from './combine.js';
import type { AttachedObservability, Logger, MetricsRecorder, TracerLike } from './types.js';

const KEYS = ['logger', 'tracer', 'metrics'] as const;
type Key = (typeof KEYS)[number];
type Value = Logger | TracerLike | MetricsRecorder;

const combiners: Readonly<Record<Key, (...values: (Value | undefined)[]) => Value>> = {
  logger: combineLoggers as (...values: (Value | undefined)[]) => Value,
  tracer: combineTracers as (...values: (Value | undefined)[]) => Value,
  metrics: combineRecorders as (...values: (Value | undefined)[]) => Value,
};

const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;

/** Every method of a `MetricsRecorder` (a recorder may implement only some, but not none). */
export const RECORDER_METHODS: readonly string[] = [
  'recordCircuitBreakerState',
  'recordRetryAttempt',
  'recordRateLimitHit',
  'recordBulkheadUtilization',
  'recordTimeout',
  'recordCircuitBreakerCall',
  'recordCallDuration',
  'recordHedge',
  'recordAdaptiveBulkheadLimit',
];

/** Checks an argument of `attach()`: an object with at least one of `logger`, `tracer`, `metrics`, each valid. */
export function checkAttached(owner: string, value: unknown): AttachedObservability {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TypeError(
      `${owner}: observability must be an object of logger, tracer and metrics, got ${describeValue(value)}`,
    );
  }
  const given = value as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if (!(KEYS as readonly string[]).includes(key)) {
      throw new TypeError(`${owner}: unknown option ${JSON.stringify(key)} (known: ${KEYS.join(', ')})`);
    }
  }
  const { logger, tracer, metrics } = given;
  if (logger === undefined && tracer === undefined && metrics === undefined) {
    throw new TypeError(`${owner}: give at least one of logger, tracer and metrics`);
  }
  if (logger !== undefined) {
    const methods = logger as Record<string, unknown> | null;
    if (typeof methods !== 'object' || methods === null || LOG_LEVELS.some((m) => typeof methods[m] !== 'function')) {
      throw new TypeError(
        `${owner}: logger must have debug(), info(), warn() and error() methods (console fits), got ${describeValue(logger)}`,
      );
    }
  }
  if (tracer !== undefined && typeof (tracer as { startActiveSpan?: unknown } | null)?.startActiveSpan !== 'function') {
    throw new TypeError(
      `${owner}: tracer must be an OpenTelemetry Tracer (with startActiveSpan()), got ${describeValue(tracer)}`,
    );
  }
  if (metrics !== undefined && (metrics === null || typeof metrics !== 'object')) {
    throw new TypeError(`${owner}: metrics must be a MetricsRecorder object, got ${describeValue(metrics)}`);
  }
  if (metrics !== undefined) {
    const methods = metrics as Record<string, unknown>;
    // Attached to every policy, a recorder with no record…() method (a {} parsed from JSON) records nothing.
    if (!RECORDER_METHODS.some((m) => typeof methods[m] === 'function')) {
      throw new TypeError(
        `${owner}: metrics must be a MetricsRecorder (with recordCircuitBreakerState(), recordTimeout() and the other record…() methods), got an object with none of them`,
      );
    }
  }
  return { logger, tracer, metrics } as AttachedObservability;
}

/**
 * The observability attached to a set of policies (a registry's), in the
 * order it was attached. Combines it with a policy's own `logger`, `tracer`
 * and `metrics` (own first), and hands out the same combination for the same
 * own value until the attachments change, so re-applying a config does not
 * rebuild a pattern's telemetry. Each value is counted, not listed: the same
 * recorder attached many times costs one entry, and adding or removing one
 * attachment is O(1) before the combinations are rebuilt.
 */
export class Attachments {
  /** Per key: each distinct attached value and how many attachments hold it, in the order first attached. */
  readonly #counts: Record<Key, Map<Value, number>> = { logger: new Map(), tracer: new Map(), metrics: new Map() };
  /** Per key: own value (or `undefined`) → its combination with the attachments. */
  readonly #cache: Record<Key, Map<Value | undefined, Value | undefined>> = {
    logger: new Map(),
    tracer: new Map(),
    metrics: new Map(),
  };
  #size = 0;
  #version = 0;

  /** How many attachments there are. */
  get size(): number {
    return this.#size;
  }

  /** Changes with every attachment added or removed. */
  get version(): number {
    return this.#version;
  }

  /** Adds `observability`; returns what removes it (once; later calls return `false`). */
  add(observability: AttachedObservability): () => boolean {
    for (const key of KEYS) {
      const value = observability[key] as Value | undefined;
      if (value === undefined) continue;
      const counts = this.#counts[key];
      counts.set(value, (counts.get(value) ?? 0) + 1);
      this.#cache[key].clear();
    }
    this.#size++;
    this.#version++;
    let removed = false;
    return () => {
      if (removed) return false;
      removed = true;
      for (const key of KEYS) {
        const value = observability[key] as Value | undefined;
        if (value === undefined) continue;
        const counts = this.#counts[key];
        const count = counts.get(value) ?? 0;
        if (count <= 1) counts.delete(value);
        else counts.set(value, count - 1);
        this.#cache[key].clear();
      }
      this.#size--;
      this.#version++;
      return true;
    };
  }

  /** Drops every attachment. */
  clear(): void {
    for (const key of KEYS) {
      this.#counts[key].clear();
      this.#cache[key].clear();
    }
    this.#size = 0;
    this.#version++;
  }

  /**
   * `config` with its `logger`, `tracer` and `metrics` combined with the
   * attachments; `config` itself when nothing is attached.
   */
  apply<C extends Readonly<Record<string, unknown>>>(config: C): C {
    if (this.#size === 0) return config;
    return { ...config, ...this.observability(config) };
  }

  /** The three observability options of a policy whose own ones are in `config`, each set (maybe `undefined`). */
  observability(config: Readonly<Record<string, unknown>>): AttachedObservability {
    return {
      logger: this.#combined('logger', config.logger as Value | undefined) as Logger | undefined,
      tracer: this.#combined('tracer', config.tracer as Value | undefined) as TracerLike | undefined,
      metrics: this.#combined('metrics', config.metrics as Value | undefined) as MetricsRecorder | undefined,
    };
  }

  #combined(key: Key, own: Value | undefined): Value | undefined {
    const cache = this.#cache[key];
    if (cache.has(own)) return cache.get(own);
    const attached = this.#counts[key];
    let combined: Value | undefined;
    if (attached.size === 0) combined = own;
    else {
      try {
        combined = combiners[key](own, ...attached.keys());
      } catch {
        // The policy's own value is invalid (attached ones were checked): leave it for the pattern to reject, naming it.
        return own;
      }
    }
    cache.set(own, combined);
    return combined;
  }
}
