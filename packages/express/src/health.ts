import type { HealthReport, HealthStatus } from '@resilience/core';
import { configObject, describeValue, oneOfOption, requireMethod } from '@resilience/core/validate';
import type { Request, RequestHandler, Response } from 'express';
import { statusOption } from './internal/status.js';

const OWNER = 'healthHandler';

/** Anything with the `health()` of a core `PolicyRegistry`. */
export interface HealthSource {
  /** The current health report. */
  health(): HealthReport;
}

/** Options of {@link healthHandler}. */
export interface HealthHandlerOptions {
  /**
   * The worst status that still answers 200: `'degraded'` (default: only
   * `'down'`, a critical policy open or full, answers 503) or `'ok'` (any
   * engaged breaker or full bulkhead answers 503).
   * @default 'degraded'
   */
  readonly okUpTo?: 'ok' | 'degraded' | undefined;
  /**
   * The status code of an unhealthy answer (400–599).
   * @default 503
   */
  readonly statusCode?: number | undefined;
}

const DOWN = JSON.stringify({ status: 'down' });

const rank: Readonly<Record<HealthStatus, number>> = { ok: 0, degraded: 1, down: 2 };

/**
 * Answers a readiness probe from a `PolicyRegistry`'s `health()`: 200 with
 * the report as JSON while the status is `'ok'` or `'degraded'`, 503 (by
 * default) when it is `'down'`. A `HEAD` gets the status code alone; every
 * answer carries `Cache-Control: no-store`. A `health()` that throws answers
 * 503 with `{ "status": "down" }` (a probe always gets an answer).
 *
 * @param policies - a core `PolicyRegistry` (anything with `health()`)
 * @param options - which status still answers 200, and the unhealthy status code
 * @example
 * ```ts
 * const policies = new PolicyRegistry();
 * app.get('/health', healthHandler(policies));
 * ```
 */
export function healthHandler(policies: HealthSource, options?: HealthHandlerOptions): RequestHandler {
  requireMethod(OWNER, 'policies', policies, 'health');
  const opts = configObject(OWNER, options, 'options');
  const okUpTo = oneOfOption(OWNER, 'okUpTo', opts.okUpTo, ['ok', 'degraded'] as const, 'degraded');
  const unhealthy = statusOption(OWNER, opts.statusCode, 503);
  return (req: Request, res: Response): void => {
    let status: HealthStatus;
    let body: string;
    try {
      const report: HealthReport = policies.health();
      if (report === null || typeof report !== 'object' || !Object.hasOwn(rank, report.status)) {
        throw new TypeError(`health() returned ${describeValue(report)}`);
      }
      status = report.status;
      // Serialized here, inside the try: a report JSON cannot carry (a BigInt, a cycle) answers "down"
      // like a health() that throws, not with Express's HTML error page.
      body = JSON.stringify(report);
    } catch {
      status = 'down';
      body = DOWN;
    }
    const code = rank[status] <= rank[okUpTo] ? 200 : unhealthy;
    res.status(code);
    res.setHeader('Cache-Control', 'no-store');
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    res.type('application/json').send(body);
  };
}
