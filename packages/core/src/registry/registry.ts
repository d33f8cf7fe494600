import { AdaptiveBulkhead } from '../adaptive-bulkhead/adaptive-bulkhead.js';
import type { AdaptiveBulkheadConfig } from '../adaptive-bulkhead/types.js';
import { AdaptiveThrottle } from '../adaptive-throttle/adaptive-throttle.js';
import type { AdaptiveThrottleConfig } from '../adaptive-throttle/types.js';
import { Bulkhead } from '../bulkhead/bulkhead.js';
import type { BulkheadConfig } from '../bulkhead/types.js';
import { Chaos } from '../chaos/chaos.js';
import type { ChaosConfig } from '../chaos/types.js';
import { CircuitBreaker } from '../circuit-breaker/circuit-breaker.js';
import type { CircuitBreakerConfig } from '../circuit-breaker/types.js';
import { Pipeline } from '../compose/pipeline.js';
import { Hedging } from '../hedging/hedging.js';
import type { HedgingConfig } from '../hedging/types.js';
import { EventHub, type EventListener, type Subscription } from '../internal/events.js';
import { Telemetry } from '../internal/telemetry.js';
import { type Commit, prepareUpdate } from '../internal/update.js';
import { describeValue } from '../internal/validate.js';
import { Attachments, checkAttached } from '../observability/attachments.js';
import type { AttachedObservability } from '../observability/types.js';
import { RateLimiter } from '../rate-limiter/rate-limiter.js';
import type { RateLimiterConfig } from '../rate-limiter/types.js';
import { Retry } from '../retry/retry.js';
import type { RetryConfig } from '../retry/types.js';
import { Timeout } from '../timeout/timeout.js';
import type { TimeoutConfig } from '../timeout/types.js';
import {
  aKind,
  type CheckedConfig,
  CREATE_OWNER,
  checkShape,
  checkValues,
  configurableKinds,
  emptyConfig,
  type Options,
  policyKinds,
  withPath,
} from './configure.js';
import { healthOf } from './health.js';
import type {
  ConfigurableKind,
  ConfigureOptions,
  HealthReport,
  PolicyKind,
  PolicyOfKind,
  PolicyRegistryConfig,
  PolicyRegistryEvents,
  PolicyRegistryOptions,
  RegisteredPolicy,
  RegisterOptions,
} from './types.js';

const OWNER = 'PolicyRegistry';

/** One policy and what the registry knows about it. */
interface Entry {
  readonly kind: PolicyKind;
  readonly name: string;
  readonly policy: PolicyOfKind[PolicyKind];
  /** The config given in code when it was created (`undefined`: none). */
  readonly code: Options | undefined;
  /** The full config the registry last gave it (to send `undefined` for options a new `configure()` drops). */
  applied: Options;
  /** Marked critical in code. */
  readonly critical: boolean;
}

/**
 * Named policies, created once and shared: every module that asks for the
 * circuit breaker `payments` gets the same instance, so alerts, dashboards,
 * health checks and config reloads can find it by name.
 *
 * - `circuitBreaker(name, config?)`, `retry`, `timeout`, `bulkhead`,
 *   `rateLimiter`, `adaptiveBulkhead`, `adaptiveThrottle`, `hedging`, `chaos`:
 *   get-or-create, one namespace per kind; asking again with a different
 *   config throws. `pipeline(name, build)` keeps a pipeline.
 * - `configure(object)`: defaults per kind and settings per name from a plain
 *   object, all validated before any applies, applied to live policies with
 *   their `update()`. A policy's config is, from weakest to strongest: the
 *   registry's options, `defaults[kind]`, the config given in code, the
 *   settings under its name.
 * - `health()`: `'ok'`, `'degraded'` or `'down'` from breaker states,
 *   bulkhead load and throttling (see {@link PolicyRegistry.health}).
 * - Adapters take a registry as their `policies` option.
 *
 * @example
 * ```ts
 * const policies = new PolicyRegistry({ logger: console });
 * const breaker = policies.circuitBreaker('payments', { timeout: 30_000 }, { critical: true });
 * policies.configure(JSON.parse(await readFile('resilience.json', 'utf8')));
 * console.log(policies.health().status);
 * ```
 */
export class PolicyRegistry {
  readonly #options: PolicyRegistryOptions;
  readonly #entries = new Map<PolicyKind, Map<string, Entry>>();
  /** Every entry in creation order. */
  readonly #order: Entry[] = [];
  #config: CheckedConfig = emptyConfig;
  #closed = false;
  #events: EventHub<PolicyRegistryEvents> | undefined = undefined;
  /** Names of the pipelines whose `build` is running (a build that asks for its own pipeline would recurse). */
  readonly #building = new Set<string>();
  /** Observability added by `attach()`, combined into every policy's own. */
  readonly #attached = new Attachments();
  /** Whether `#reapply` is running (a recorder told a state may attach or detach from inside it). */
  #reapplying = false;
  /** Whether the attachments changed while `#reapply` ran, so it must run again. */
  #again = false;
  /** Whether `configure()` is applying its updates (a listener or call of a policy it updates may call it again). */
  #configuring = false;

  /** @param options - a logger, tracer, metrics recorder and clock for every policy the registry creates */
  constructor(options: PolicyRegistryOptions = {}) {
    if (options === null || typeof options !== 'object') {
      throw new TypeError(`${OWNER}: options must be an object, got ${describeValue(options)}`);
    }
    const { logger, tracer, metrics, clock } = options;
    this.#options = {
      ...(logger === undefined ? {} : { logger }),
      ...(tracer === undefined ? {} : { tracer }),
      ...(metrics === undefined ? {} : { metrics }),
      ...(clock === undefined ? {} : { clock }),
    };
  }

  /** The circuit breaker named `name`, created from `config` (and the registry's settings) the first time. */
  circuitBreaker<T = unknown>(
    name: string,
    config?: CircuitBreakerConfig<T>,
    options?: RegisterOptions,
  ): CircuitBreaker<T> {
    return this.#getOrCreate(
      'circuitBreaker',
      name,
      config,
      options,
      (c) => new CircuitBreaker(c),
    ) as CircuitBreaker<T>;
  }

  /** The retry named `name`, created from `config` (and the registry's settings) the first time. */
  retry<T = unknown>(name: string, config?: RetryConfig<T>): Retry<T> {
    return this.#getOrCreate('retry', name, config, undefined, (c) => new Retry(c)) as Retry<T>;
  }

  /** The timeout named `name`, created from `config` (and the registry's settings) the first time. */
  timeout<T = unknown>(name: string, config?: TimeoutConfig): Timeout<T> {
    return this.#getOrCreate('timeout', name, config, undefined, (c) => new Timeout(c)) as Timeout<T>;
  }

  /** The bulkhead named `name`, created from `config` (and the registry's settings) the first time. */
  bulkhead<T = unknown>(name: string, config?: BulkheadConfig, options?: RegisterOptions): Bulkhead<T> {
    return this.#getOrCreate(
      'bulkhead',
      name,
      config,
      options,
      (c) => new Bulkhead(c as BulkheadConfig),
    ) as Bulkhead<T>;
  }

  /** The rate limiter named `name`, created from `config` (and the registry's settings) the first time. */
  rateLimiter(name: string, config?: RateLimiterConfig): RateLimiter {
    return this.#getOrCreate('rateLimiter', name, config, undefined, (c) => new RateLimiter(c as RateLimiterConfig));
  }

  /**
   * The adaptive bulkhead named `name`, created from `config` (and the
   * registry's settings) the first time. `{ critical: true }` makes `health()`
   * say `'down'` while it is full.
   */
  adaptiveBulkhead<T = unknown>(
    name: string,
    config?: AdaptiveBulkheadConfig,
    options?: RegisterOptions,
  ): AdaptiveBulkhead<T> {
    return this.#getOrCreate(
      'adaptiveBulkhead',
      name,
      config,
      options,
      (c) => new AdaptiveBulkhead(c),
    ) as AdaptiveBulkhead<T>;
  }

  /**
   * The adaptive throttle named `name`, created from `config` (and the
   * registry's settings) the first time. `{ critical: true }` makes `health()`
   * say `'down'` while it rejects calls.
   */
  adaptiveThrottle<T = unknown>(
    name: string,
    config?: AdaptiveThrottleConfig,
    options?: RegisterOptions,
  ): AdaptiveThrottle<T> {
    return this.#getOrCreate(
      'adaptiveThrottle',
      name,
      config,
      options,
      (c) => new AdaptiveThrottle(c),
    ) as AdaptiveThrottle<T>;
  }

  /**
   * The hedging policy named `name`, created from `config` (and the
   * registry's settings) the first time. Its `delay` is required: in code, in
   * `defaults.hedging`, or under its name in `configure()`.
   */
  hedging<T = unknown>(name: string, config?: HedgingConfig<T>): Hedging<T> {
    return this.#getOrCreate('hedging', name, config, undefined, (c) => new Hedging(c)) as Hedging<T>;
  }

  /**
   * The fault-injection policy named `name`, created from `config` (and the
   * registry's settings) the first time. A file switches it with
   * `"enabled": true` and sets `rate`, `latency` and `result`; a `fault` is
   * given in code.
   */
  chaos<T = unknown>(name: string, config?: ChaosConfig<T>): Chaos<T> {
    return this.#getOrCreate('chaos', name, config, undefined, (c) => new Chaos(c)) as Chaos<T>;
  }

  /**
   * The pipeline named `name`, built by `build` the first time (later calls
   * return it and do not call `build`). Its steps are usually the registry's
   * own policies: `policies.pipeline('checkout', (p) => compose(p.timeout('checkout'), p.circuitBreaker('payments')))`.
   *
   * @throws TypeError when no pipeline has that name and `build` is missing
   */
  pipeline<T = unknown>(name: string, build?: (registry: PolicyRegistry) => Pipeline<T>): Pipeline<T> {
    this.#checkOpen();
    const existing = this.#entries.get('pipeline')?.get(checkName(name));
    if (existing !== undefined) return existing.policy as Pipeline<T>;
    if (typeof build !== 'function') {
      throw new TypeError(`${OWNER}: no pipeline named ${JSON.stringify(name)} yet, and build must be a function`);
    }
    if (this.#building.has(name)) {
      throw new TypeError(`${OWNER}: the build of pipeline ${JSON.stringify(name)} asked for that pipeline itself`);
    }
    this.#building.add(name);
    let pipeline: Pipeline<T>;
    try {
      pipeline = build(this);
    } finally {
      this.#building.delete(name);
    }
    if (!(pipeline instanceof Pipeline)) {
      throw new TypeError(
        `${OWNER}: build of pipeline ${JSON.stringify(name)} must return a Pipeline (from compose(), or pipeline()…build()), got ${describeValue(pipeline)}`,
      );
    }
    this.#add({
      kind: 'pipeline',
      name,
      policy: pipeline as Pipeline<unknown>,
      code: undefined,
      applied: {},
      critical: false,
    });
    return pipeline;
  }

  /** The policy of `kind` named `name`, if there is one. */
  get<K extends PolicyKind>(name: string, kind: K): PolicyOfKind[K] | undefined;
  /**
   * The only policy named `name`, of whatever kind, if there is one.
   * @throws TypeError when policies of several kinds have that name (pass the kind)
   */
  get(name: string): PolicyOfKind[PolicyKind] | undefined;
  get(name: string, kind?: PolicyKind): PolicyOfKind[PolicyKind] | undefined {
    if (kind !== undefined) {
      if (!policyKinds.includes(kind))
        throw new TypeError(`${OWNER}: kind must be one of ${policyKinds.join(', ')}, got ${describeValue(kind)}`);
      return this.#entries.get(kind)?.get(name)?.policy;
    }
    // One map lookup per kind, not a scan of every policy (a large registry serves get(name) on hot paths).
    const found: Entry[] = [];
    for (const k of policyKinds) {
      const entry = this.#entries.get(k)?.get(name);
      if (entry !== undefined) found.push(entry);
    }
    if (found.length > 1) {
      const kinds = found.map((entry) => entry.kind).join(', ');
      throw new TypeError(
        `${OWNER}: several policies are named ${JSON.stringify(name)} (${kinds}): pass the kind, get(name, kind)`,
      );
    }
    return found[0]?.policy;
  }

  /** Every policy, in the order they were created. */
  list(): RegisteredPolicy[] {
    return this.#order.map(({ kind, name, policy }) => ({ kind, name, policy }));
  }

  /**
   * Applies a plain object of settings (see {@link PolicyRegistryConfig}):
   * checks the whole of it first (unknown sections, kinds, names and options
   * fail with their path, `circuitBreaker.payments.timout`; a bad value fails
   * with the path of the policy it would reach), then updates every live
   * policy it changes. Nothing applies when anything fails. Each call replaces
   * what the previous one set: an option that is no longer given goes back to
   * the policy's code config or default. Updating a policy can run code (its
   * listeners and hooks, queued calls a higher limit starts): a `configure()`
   * from there throws, as it would apply in the middle of this one; an
   * `attach()` from there reaches every policy.
   *
   * @throws TypeError or RangeError with the path; Error when the registry is closed, or when called from inside a `configure()`
   */
  configure(config: PolicyRegistryConfig, options: ConfigureOptions = {}): void {
    this.#checkOpen();
    if (this.#configuring) {
      // Applied in the middle of the outer one, it would leave some policies with one config, some with the other.
      throw new Error(
        `${OWNER}.configure: called from inside a configure() (by a listener, hook or call of a policy it updates); ` +
          'call it once that configure() has returned (queueMicrotask() from the listener)',
      );
    }
    const checked = checkShape(
      config,
      (kind, name) => this.#entries.get(kind)?.has(name) === true,
      options?.allowUnknownNames === true,
    );
    const commits: Commit[] = [];
    for (const kind of configurableKinds) {
      const live = this.#entries.get(kind);
      const defaults = checked.defaults[kind];
      // Checked on their own even when every live policy overrides them: a policy created later without a
      // config takes them as they are, and must not be the first to find them invalid.
      if (defaults !== undefined) checkValues(kind, `defaults.${kind}`, defaults);
      for (const [name, values] of checked.named[kind] ?? []) {
        if (live?.has(name) !== true) checkValues(kind, `${kind}.${name}`, { ...defaults, ...values });
      }
      for (const entry of live?.values() ?? []) {
        const target = this.#effective(checked, kind, entry.name, entry.code);
        const partial: Record<string, unknown> = { ...target };
        for (const key of Object.keys(entry.applied)) if (!(key in target)) partial[key] = undefined;
        let commit: Commit;
        try {
          commit = prepareUpdate(entry.policy, this.#attached.apply(partial));
        } catch (err) {
          throw withPath(`${kind}.${entry.name}`, err);
        }
        commits.push(() => {
          commit();
          entry.applied = target;
        });
      }
    }
    const attachments = this.#attached.version;
    // Before the updates: a policy created from inside them (by a listener) takes this config, not the old one.
    this.#config = checked;
    this.#configuring = true;
    try {
      for (const commit of commits) commit();
    } finally {
      this.#configuring = false;
    }
    // Something attached or detached from inside a commit (a recorder told a state): the policies updated after
    // it got the attachments of before; give every policy the current ones.
    if (this.#attached.version !== attachments) this.#reapply();
  }

  /**
   * The health of the registry's circuit breakers, bulkheads, adaptive
   * bulkheads and adaptive throttles, for a readiness probe. Rules, per policy:
   * - a breaker that is closed (or forced closed) is `'ok'`; half-open is
   *   `'degraded'`; open (or forced open) is `'down'` when critical, else `'degraded'`;
   * - a bulkhead is `'ok'` unless it is full (every slot taken and the queue
   *   full, so the next call is refused): then `'down'` when critical, else `'degraded'`;
   * - an adaptive bulkhead likewise, full meaning `active >= limit` and the queue full;
   * - an adaptive throttle is `'ok'` while its `rejectionProbability` is 0, and
   *   once it rejects calls at all (the dependency accepts fewer than `1 / k`
   *   of the requests) `'down'` when critical, else `'degraded'`.
   * The registry's status is the worst of them (`'ok'` with none). Retries,
   * timeouts, rate limiters, hedging, chaos and pipelines do not count. Mark a
   * policy critical in code (`{ critical: true }`) or in `configure({ critical: [...] })`.
   * A closed registry reports `{ status: 'down', closed: true, policies: [] }`:
   * a probe still pointed at it must not pass.
   */
  health(): HealthReport {
    if (this.#closed) return { status: 'down', closed: true, policies: [] };
    return healthOf(this.#order, (entry) => entry.critical || this.#config.critical.has(`${entry.kind}.${entry.name}`));
  }

  /**
   * `'added'` (`{ kind, name, policy }`) for each policy created from now on
   * (with `list()` for those already there), so that an adapter can attach
   * to every policy of the registry.
   *
   * @returns a subscription: `dispose()` it (or `using` it) to stop listening
   */
  on<K extends keyof PolicyRegistryEvents>(event: K, listener: EventListener<PolicyRegistryEvents[K]>): Subscription {
    this.#events ??= new EventHub<PolicyRegistryEvents>(OWNER, new Telemetry('registry' as never, this.#options));
    return this.#events.on(['added'], event, listener);
  }

  /**
   * Adds a logger, tracer and/or metrics recorder to every policy of the
   * registry: those there now and those created later. Each policy keeps
   * what it already reports to (the registry's options, its own config) and
   * reports to the attached ones as well, through {@link combineRecorders},
   * {@link combineLoggers} and {@link combineTracers}: the same recorder,
   * logger or tracer reaching a policy twice (attached twice, or also given
   * to the registry or the policy) reports once. `configure()` keeps the
   * attachments. This is what the adapters' `policies` option calls, so two
   * adapters (Prometheus and OpenTelemetry during a migration) both receive
   * everything.
   *
   * A policy that cannot be updated (a pipeline: its steps are policies of
   * their own, and report themselves) keeps what it was created with; a
   * policy created later gets the attachments when it is created.
   *
   * @param observability - `{ logger?, tracer?, metrics? }`, at least one
   * @returns a subscription: `dispose()` it (or `using` it) to remove what this
   *   call added, and only that, from every policy. After `close()` it does
   *   nothing: the policies keep reporting where they did.
   * @throws TypeError naming the option when one is invalid; Error when the registry is closed
   * @example
   * ```ts
   * const policies = new PolicyRegistry();
   * const attachment = policies.attach({ metrics: new PrometheusRecorder(), logger: console });
   * policies.circuitBreaker('payments'); // reports to both
   * attachment.dispose();
   * ```
   */
  attach(observability: AttachedObservability): Subscription {
    this.#checkOpen();
    const checked = checkAttached(`${OWNER}.attach`, observability);
    const remove = this.#attached.add(checked);
    this.#reapply();
    const dispose = (): void => {
      if (this.#closed || !remove()) return;
      this.#reapply();
    };
    return { dispose, [Symbol.dispose]: dispose };
  }

  /**
   * Gives every policy that can be updated its own observability combined
   * with the current attachments. A recorder told a breaker's state from in
   * here may attach or detach: the pass finishes, and one more applies the
   * newer set to every policy, so none is left with the older one.
   */
  #reapply(): void {
    if (this.#reapplying) {
      this.#again = true;
      return;
    }
    this.#reapplying = true;
    try {
      // Bounded: a recorder that attaches something every time it is told a state must not loop for ever.
      for (let pass = 0; pass < 16; pass++) {
        this.#again = false;
        // Each policy's update is prepared just before it applies, not all first: an update runs code (a
        // recorder told a state) that may configure() the registry, and an update prepared before that would
        // put the old settings back. Nothing here needs all-or-nothing: each policy only gains observability.
        for (const entry of this.#order) {
          let commit: Commit;
          try {
            commit = prepareUpdate(entry.policy, this.#attached.observability(entry.applied));
          } catch {
            continue; // A policy without update() (a pipeline) keeps what it was created with.
          }
          commit();
        }
        if (!this.#again) return;
      }
    } finally {
      this.#reapplying = false;
    }
  }

  /**
   * Forgets every policy and listener; later get-or-create calls and
   * `configure()` throw, and `health()` says `'down'`. The policies themselves keep working for code that
   * holds them (no pattern holds a timer while idle). Closing twice is harmless.
   */
  close(): void {
    this.#closed = true;
    this.#attached.clear();
    this.#entries.clear();
    this.#order.length = 0;
    this.#events = undefined;
    this.#config = emptyConfig;
  }

  /** The same as {@link PolicyRegistry.close}, so `using policies = new PolicyRegistry()` works. */
  [Symbol.dispose](): void {
    this.close();
  }

  #getOrCreate<K extends ConfigurableKind>(
    kind: K,
    name: string,
    config: object | undefined,
    options: RegisterOptions | undefined,
    create: (config: never) => PolicyOfKind[K],
  ): PolicyOfKind[K] {
    this.#checkOpen();
    checkName(name);
    if (config !== undefined && (config === null || typeof config !== 'object')) {
      throw new TypeError(
        `${OWNER}: config of ${kind} ${JSON.stringify(name)} must be an object, got ${describeValue(config)}`,
      );
    }
    // A copy: the registry re-applies the code config on every configure(), so a caller mutating its object
    // afterwards must not change the policy behind its back (nor what "a different config" compares with).
    const code = config === undefined ? undefined : snapshot(config as Options);
    const existing = this.#entries.get(kind)?.get(name);
    if (existing !== undefined) {
      if (code !== undefined && !sameOptions(existing.code, code)) {
        throw new Error(
          `${OWNER}: ${aKind(kind)} named ${JSON.stringify(name)} already exists with a different config; ` +
            `ask for it without a config, or use another name`,
        );
      }
      return existing.policy as PolicyOfKind[K];
    }
    const target = this.#effective(this.#config, kind, name, code);
    const attachments = this.#attached.version;
    let policy: PolicyOfKind[K];
    try {
      policy = create(this.#attached.apply(target) as never);
    } catch (err) {
      throw withPath(`${kind}.${name}`, err, CREATE_OWNER);
    }
    this.#add({ kind, name, policy, code, applied: target, critical: options?.critical === true });
    // A recorder told the new policy's first state attached or detached something: give it the newer set too.
    if (this.#attached.version !== attachments) this.#reapply();
    return policy;
  }

  /** The full config of a policy: registry options, defaults, code config, named settings, and its name. */
  #effective(config: CheckedConfig, kind: ConfigurableKind, name: string, code: Options | undefined): Options {
    return { ...this.#options, ...config.defaults[kind], ...code, ...config.named[kind]?.get(name), name };
  }

  #add(entry: Entry): void {
    let byName = this.#entries.get(entry.kind);
    if (byName === undefined) {
      byName = new Map();
      this.#entries.set(entry.kind, byName);
    }
    byName.set(entry.name, entry);
    this.#order.push(entry);
    this.#events?.emit('added', { kind: entry.kind, name: entry.name, policy: entry.policy });
  }

  #checkOpen(): void {
    if (this.#closed) throw new Error(`${OWNER}: the registry is closed`);
  }
}

/** A shallow copy of a code config, with its `window` (the one nested option) copied too. */
function snapshot(config: Options): Options {
  const { window } = config;
  const copy: Record<string, unknown> = { ...config };
  if (window !== null && typeof window === 'object' && !Array.isArray(window)) copy.window = { ...window };
  return copy;
}

function checkName(name: unknown): string {
  if (typeof name !== 'string' || name === '') {
    throw new TypeError(`${OWNER}: name must be a non-empty string, got ${describeValue(name)}`);
  }
  return name;
}

/** Whether two code configs are the same: the same keys with the same values (a `window` compared by its fields). */
function sameOptions(a: Options | undefined, b: Options): boolean {
  if (a === b) return true;
  const x = a ?? {};
  const keys = Object.keys(b).filter((key) => b[key] !== undefined);
  if (keys.length !== Object.keys(x).filter((key) => x[key] !== undefined).length) return false;
  return keys.every((key) => {
    const left = x[key];
    const right = b[key];
    if (Object.is(left, right)) return true;
    if (key !== 'window' || left === null || right === null || typeof left !== 'object' || typeof right !== 'object')
      return false;
    return sameOptions(left as Options, right as Options);
  });
}
