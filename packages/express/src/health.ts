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

const DOWN = { status: 'down' } as const;

const rank: Readonly<Record<HealthStatus, number>> = { ok: 0, degraded: 1, down: 2 };

/**
 * Answers a readiness probe from a `PolicyRegistry`'s `health()`: 200 with
 * the report as JSON while the status is `'ok'` or `'degraded'`, 503 (by
 * default) when it is `'down'` (a closed registry is `'down'`). The JSON
 * follows the app's `json spaces`, `json replacer` and `json escape`
 * settings, as `res.json()` does; an unbounded `maxQueue` (`Infinity`) is
 * written `"Infinity"`, as `configure()` reads it. A `HEAD` gets the same status and headers
 * (`Content-Type`, `Content-Length`) without the body; every answer carries
 * `Cache-Control: no-store`. A `health()` that throws answers 503 with
 * `{ "status": "down" }` (a probe always gets an answer).
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
    const settings = jsonSettings(req);
    let status: HealthStatus;
    let body: string;
    try {
      const report: HealthReport = policies.health();
      if (report === null || typeof report !== 'object' || !Object.hasOwn(rank, report.status)) {
        throw new TypeError(`health() returned ${describeValue(report)}`);
      }
      status = report.status;
      // Serialized here, inside the try: a report JSON cannot carry (a BigInt, a cycle), or a `json replacer`
      // that throws, answers "down" like a health() that throws, not with Express's HTML error page.
      body = stringify(report, settings);
    } catch {
      status = 'down';
      body = stringify(DOWN, { ...settings, replacer: undefined });
    }
    const code = rank[status] <= rank[okUpTo] ? 200 : unhealthy;
    res.status(code);
    res.setHeader('Cache-Control', 'no-store');
    // For a HEAD too: Express's send() answers it with the headers of the GET (type, length) and no body.
    res.type('application/json').send(body);
  };
}

/** The app's JSON settings, as `res.json()` reads them. */
interface JsonSettings {
  readonly replacer: ((this: unknown, key: string, value: unknown) => unknown) | undefined;
  readonly spaces: unknown;
  readonly escapeHtml: boolean;
}

function jsonSettings(req: Request): JsonSettings {
  const app = req.app as { get?: (setting: string) => unknown } | undefined;
  if (typeof app?.get !== 'function') return { replacer: undefined, spaces: undefined, escapeHtml: false };
  const replacer = app.get('json replacer');
  return {
    replacer: typeof replacer === 'function' ? (replacer as JsonSettings['replacer']) : undefined,
    spaces: app.get('json spaces'),
    escapeHtml: Boolean(app.get('json escape')),
  };
}

/** `JSON.stringify` with the app's settings; `json escape` turns `<`, `>` and `&` into `\u` escapes. */
function stringify(value: unknown, { replacer, spaces, escapeHtml }: JsonSettings): string {
  // An unbounded queue (maxQueue Infinity) is written "Infinity", as configure() reads it, not JSON's null.
  const unbounded = function (this: unknown, key: string, v: unknown): unknown {
    const out = replacer === undefined ? v : replacer.call(this, key, v);
    return out === Number.POSITIVE_INFINITY ? 'Infinity' : out;
  };
  const json = JSON.stringify(value, unbounded, spaces as string | number | undefined);
  if (typeof json !== 'string') throw new TypeError('the report has no JSON form');
  return escapeHtml ? json.replace(/[<>&]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) : json;
}
