import {
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceDefinition,
  status as Status,
  type sendUnaryData,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import type { Logger } from '@resilience/core';
import { describeValue, numberOption } from '@resilience/core/validate';
import {
  decodeRequest,
  decodeResponse,
  encodeRequest,
  encodeResponse,
  type HealthCheckRequest,
  type HealthCheckResponse,
  ServingStatus,
} from './internal/health-codec.js';
import { optionsObject } from './internal/options.js';

export type { HealthCheckRequest, HealthCheckResponse } from './internal/health-codec.js';
export { ServingStatus } from './internal/health-codec.js';

const OWNER = 'healthService';

/** The overall health a `PolicyRegistry` reports (API.md "Operations"). */
export type HealthStatus = 'ok' | 'degraded' | 'down';

/**
 * What the health service needs of a `PolicyRegistry`: its `health()` (typed
 * structurally, so any object with that method fits; a promise is awaited).
 */
export interface HealthSource {
  /** The overall status, from breaker states and bulkhead load. */
  health():
    | { readonly status: HealthStatus; readonly policies?: unknown }
    | PromiseLike<{ readonly status: HealthStatus; readonly policies?: unknown }>;
}

/** Options of {@link healthService}. */
export interface HealthServiceOptions {
  /**
   * How often, in ms, `Watch` streams re-read `health()` (one timer for all
   * of them, only while at least one is open; an update goes out only when
   * the status changed).
   * @default 1000
   */
  interval?: number;
  /**
   * Service names that report the overall status besides `""` (the whole
   * server), such as `"my.package.Greeter"`. The name of a policy in the
   * report reports that policy's status; `Check` answers `NOT_FOUND` for any
   * other name, `Watch` sends `SERVICE_UNKNOWN`.
   * @default []
   */
  services?: readonly string[];
  /**
   * Where a `health()` that throws is logged (the status is then `NOT_SERVING`).
   * @default none
   */
  logger?: Logger;
}

/** The `grpc.health.v1.Health` service, ready for `server.addService(health.service, health.implementation)`. */
export interface HealthService {
  /** The service definition (`/grpc.health.v1.Health/Check` and `/Watch`). */
  readonly service: ServiceDefinition;
  /** The handlers. */
  readonly implementation: UntypedServiceImplementation;
  /** How many `Watch` streams are open. */
  readonly watchers: number;
}

/** The `grpc.health.v1.Health` service definition, with hand-written (de)serializers. */
export const healthServiceDefinition: ServiceDefinition = {
  Check: {
    path: '/grpc.health.v1.Health/Check',
    requestStream: false,
    responseStream: false,
    requestSerialize: encodeRequest,
    requestDeserialize: decodeRequest,
    responseSerialize: encodeResponse,
    responseDeserialize: decodeResponse,
  },
  Watch: {
    path: '/grpc.health.v1.Health/Watch',
    requestStream: false,
    responseStream: true,
    requestSerialize: encodeRequest,
    requestDeserialize: decodeRequest,
    responseSerialize: encodeResponse,
    responseDeserialize: decodeResponse,
  },
};

/** Maps a registry status: `ok` and `degraded` are serving (degraded still answers), `down` is not. */
export function servingStatus(status: unknown): ServingStatus {
  return status === 'ok' || status === 'degraded' ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
}

/** What the service reads of a health report. */
type HealthReportLike = { readonly status: HealthStatus; readonly policies?: unknown };

/** One open `Watch` stream. */
class Watcher {
  readonly call: ServerWritableStream<HealthCheckRequest, HealthCheckResponse>;
  readonly service: string;
  last: ServingStatus | undefined = undefined;

  constructor(call: ServerWritableStream<HealthCheckRequest, HealthCheckResponse>) {
    this.call = call;
    this.service = call.request.service;
  }

  send(status: ServingStatus): void {
    if (status === this.last || this.call.cancelled) return;
    this.last = status;
    this.call.write({ status });
  }
}

/**
 * Serves the standard gRPC health checking protocol (`grpc.health.v1.Health`,
 * `Check` and `Watch`) from a `PolicyRegistry`'s `health()`, so Kubernetes
 * gRPC probes and load balancers see the state of the service's resilience
 * policies:
 * - `ok` and `degraded` answer `SERVING` (a degraded service still serves:
 *   some breaker is half-open or a bulkhead is busy), `down` answers
 *   `NOT_SERVING`; a `health()` that throws or returns something else counts
 *   as `NOT_SERVING`.
 * - `Check` reads `health()` once per call. `service` `""` and the names in
 *   `options.services` report the overall status; the name of a policy in
 *   the report (`health().policies[].name`, a breaker or bulkhead of the
 *   registry) reports that policy's own status; any other name is `NOT_FOUND`.
 * - `Watch` sends the status at once, then re-reads `health()` every
 *   `interval` ms and sends it when it changed (`SERVICE_UNKNOWN` while the
 *   name is unknown). One timer serves every open stream and is cleared when
 *   the last one ends: nothing is left running.
 *
 * @param policies - a `PolicyRegistry`, or anything with its `health()`
 * @param options - the polling interval, extra service names, a logger
 * @returns the service definition and its handlers
 * @example
 * ```ts
 * const health = healthService(registry, { services: ['shop.Checkout'] });
 * server.addService(health.service, health.implementation);
 * ```
 */
export function healthService(policies: HealthSource, options?: HealthServiceOptions): HealthService {
  if (policies === null || typeof policies !== 'object' || typeof policies.health !== 'function') {
    throw new TypeError(`${OWNER}: policies must have a health() method, got ${describeValue(policies)}`);
  }
  const opts = optionsObject(OWNER, options, ['interval', 'services', 'logger']);
  const interval = numberOption(OWNER, 'interval', opts.interval, 1000, { min: 1, max: 2_147_483_647 });
  const services = opts.services ?? [];
  if (!Array.isArray(services) || !services.every((s) => typeof s === 'string')) {
    throw new TypeError(`${OWNER}: services must be an array of service names, got ${describeValue(opts.services)}`);
  }
  const known = new Set(['', ...services]);
  const logger = opts.logger;
  const watchers = new Set<Watcher>();
  let timer: ReturnType<typeof setTimeout> | undefined;

  /** The registry's report, or `undefined` when `health()` failed (logged). */
  const read = async (): Promise<HealthReportLike | undefined> => {
    try {
      return (await policies.health()) ?? undefined;
    } catch (err) {
      try {
        logger?.error('health() threw; answering NOT_SERVING', { err });
      } catch {
        // a failing logger changes nothing
      }
      return undefined;
    }
  };

  /** The serving status of `service` in `report`; `undefined` when the service is unknown. */
  const statusOf = (service: string, report: HealthReportLike | undefined): ServingStatus | undefined => {
    if (known.has(service)) return report === undefined ? ServingStatus.NOT_SERVING : servingStatus(report.status);
    if (report === undefined) return ServingStatus.NOT_SERVING;
    const entry = Array.isArray(report.policies)
      ? (report.policies as unknown[]).find(
          (p): p is { status: unknown } =>
            typeof p === 'object' && p !== null && (p as { name?: unknown }).name === service,
        )
      : undefined;
    return entry === undefined ? undefined : servingStatus(entry.status);
  };

  /** `statusOf` for a report of any shape: a report whose fields throw when read is `NOT_SERVING`, not an unhandled rejection. */
  const safeStatusOf = (service: string, report: HealthReportLike | undefined): ServingStatus | undefined => {
    try {
      return statusOf(service, report);
    } catch (err) {
      try {
        logger?.error('health() returned a report that cannot be read; answering NOT_SERVING', { err });
      } catch {
        // a failing logger changes nothing
      }
      return ServingStatus.NOT_SERVING;
    }
  };

  const broadcast = (report: HealthReportLike | undefined): void => {
    for (const watcher of watchers) {
      watcher.send(safeStatusOf(watcher.service, report) ?? ServingStatus.SERVICE_UNKNOWN);
    }
  };

  /** How many polls were started, and the latest one whose health() answered (a late answer of an older one is dropped). */
  let asked = 0;
  let answered = 0;

  const tick = (): void => {
    timer = undefined;
    if (watchers.size === 0) return;
    // The next poll is due whatever this one does: a health() that never answers must not stop every Watch stream.
    schedule();
    // Two polls in a row unanswered: NOT_SERVING until health() answers again (one slow answer is not an outage).
    if (answered < asked - 1) broadcast(undefined);
    const current = ++asked;
    void read().then((report) => {
      if (current <= answered) return;
      answered = current;
      broadcast(report);
    });
  };

  const schedule = (): void => {
    if (timer !== undefined || watchers.size === 0) return;
    timer = setTimeout(tick, interval);
    timer.unref();
  };

  const check = (
    call: ServerUnaryCall<HealthCheckRequest, HealthCheckResponse>,
    callback: sendUnaryData<HealthCheckResponse>,
  ): void => {
    const service = call.request.service;
    void read().then((report) => {
      const status = safeStatusOf(service, report);
      if (status === undefined)
        callback({ code: Status.NOT_FOUND, details: `Unknown service ${JSON.stringify(service)}` });
      else callback(null, { status });
    });
  };

  const watch = (call: ServerWritableStream<HealthCheckRequest, HealthCheckResponse>): void => {
    // An unknown service gets SERVICE_UNKNOWN and an open stream: it may appear later (a policy created on first use).
    const watcher = new Watcher(call);
    watchers.add(watcher);
    const leave = (): void => {
      watchers.delete(watcher);
      if (watchers.size === 0 && timer !== undefined) {
        clearTimeout(timer);
        timer = undefined;
      }
    };
    call.on('cancelled', leave);
    call.on('error', leave);
    call.on('close', leave);
    // Polling starts now, not once this first read answers: a health() that never answers must not stop it.
    schedule();
    void read().then((report) => {
      if (!watchers.has(watcher)) return;
      watcher.send(safeStatusOf(watcher.service, report) ?? ServingStatus.SERVICE_UNKNOWN);
    });
  };

  return {
    service: healthServiceDefinition,
    implementation: { Check: check, Watch: watch } as UntypedServiceImplementation,
    get watchers() {
      return watchers.size;
    },
  };
}
