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
  return { logger, tracer, metrics } as AttachedObservability;
}

/**
 * The observability attached to a set of policies (a registry's), in the
 * order it was attached. Combines it with a policy's own `logger`, `tracer`
 * and `metrics` (own first), and hands out the same combination for the same
 * own value until the attachments change, so re-applying a config does not
 * rebuild a pattern's telemetry.
 */
export class Attachments {
  readonly #list: AttachedObservability[] = [];
  /** Per key: own value (or `undefined`) → its combination with the attachments. */
  readonly #cache = new Map<Key, Map<Value | undefined, Value | undefined>>();

  /** How many attachments there are. */
  get size(): number {
    return this.#list.length;
  }

  /** Adds `observability`; returns what removes it (once; later calls return `false`). */
  add(observability: AttachedObservability): () => boolean {
    this.#list.push(observability);
    this.#cache.clear();
    return () => {
      const at = this.#list.indexOf(observability);
      if (at < 0) return false;
      this.#list.splice(at, 1);
      this.#cache.clear();
      return true;
    };
  }

  /** Drops every attachment. */
  clear(): void {
    this.#list.length = 0;
    this.#cache.clear();
  }

  /**
   * `config` with its `logger`, `tracer` and `metrics` combined with the
   * attachments; `config` itself when nothing is attached.
   */
  apply<C extends Readonly<Record<string, unknown>>>(config: C): C {
    if (this.#list.length === 0) return config;
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
    let byOwn = this.#cache.get(key);
    if (byOwn === undefined) {
      byOwn = new Map();
      this.#cache.set(key, byOwn);
    }
    if (byOwn.has(own)) return byOwn.get(own);
    const attached = this.#list.map((o) => o[key] as Value | undefined);
    let combined: Value | undefined;
    try {
      combined =
        own === undefined && attached.every((v) => v === undefined) ? undefined : combiners[key](own, ...attached);
    } catch {
      // The policy's own value is invalid (attached ones were checked): leave it for the pattern to reject, naming it.
      return own;
    }
    byOwn.set(own, combined);
    return combined;
  }
}
