import { type Clock, type ExecutionContext, Hedging, type Logger } from '@resilience/core';
import { configObject, describeValue, functionOption, numberOption, requiredNumber } from '@resilience/core/validate';
import { rejectUnknownOptions } from '@resilience/http';
import { discardResponse } from './body.js';
import type { FetchHedgingConfig } from './types.js';

const OWNER = 'createFetch';
const hedgingOptionNames = ['delay', 'maxHedges', 'methods', 'onHedge'] as const;

/** The methods RFC 9110 calls idempotent: the only ones hedged unless the caller says otherwise. */
const IDEMPOTENT_METHODS: readonly string[] = ['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE'];

/** The hedging of a resilient fetch: the core policy and the methods it applies to. */
export interface FetchHedging {
  readonly policy: Hedging<Response>;
  readonly methods: ReadonlySet<string>;
}

/** Reads the `hedging` option; `undefined` or `false`: no hedging. Bad values throw, naming `hedging.<field>`. */
export function buildHedging(
  value: FetchHedgingConfig | false | undefined,
  observability: { name: string; logger?: Logger },
  clock: Clock | undefined,
): FetchHedging | undefined {
  if (value === undefined || value === false) return undefined;
  const h = configObject(OWNER, value, 'hedging');
  rejectUnknownOptions(`${OWNER} hedging`, h, hedgingOptionNames);
  const delay = requiredNumber(OWNER, 'hedging.delay', h.delay, { min: 0 });
  const maxHedges = numberOption(OWNER, 'hedging.maxHedges', h.maxHedges, 1, { min: 1, max: 100, integer: true });
  const onHedge = functionOption(OWNER, 'hedging.onHedge', h.onHedge);
  let methods: ReadonlySet<string> = new Set(IDEMPOTENT_METHODS);
  if (h.methods !== undefined) {
    if (!Array.isArray(h.methods) || !h.methods.every((m) => typeof m === 'string' && m !== '')) {
      throw new TypeError(
        `${OWNER}: hedging.methods must be an array of method names, got ${describeValue(h.methods)}`,
      );
    }
    methods = new Set(h.methods.map((m: string) => m.toUpperCase()));
  }
  const policy = new Hedging<Response>({
    ...observability,
    name: `${observability.name}.hedging`,
    ...(clock === undefined ? {} : { clock }),
    ...(onHedge === undefined ? {} : { onHedge }),
    delay,
    maxHedges,
  });
  return { policy, methods };
}

/**
 * Runs `attempt` under the hedging policy and returns the winner. Every other
 * attempt's response (a loser that answered too, before or after the winner)
 * has its body cancelled, so its socket is freed; when the hedged call
 * rejects (the caller aborted, the time ran out, every attempt failed), every
 * response is.
 */
export function hedged(
  policy: Hedging<Response>,
  attempt: (ctx: ExecutionContext) => Promise<Response>,
  ctx: ExecutionContext,
): Promise<Response> {
  /** `undefined` while the hedged call is pending; then the winner, or `null` when it rejected. */
  let outcome: Response | null | undefined;
  const answered: Response[] = [];
  const one = (attemptCtx: ExecutionContext): Promise<Response> =>
    attempt(attemptCtx).then((response) => {
      if (outcome === undefined) answered.push(response);
      else if (response !== outcome) discardResponse(response);
      return response;
    });
  return policy.execute(one, ctx).then(
    (winner) => {
      outcome = winner;
      for (const response of answered) if (response !== winner) discardResponse(response);
      answered.length = 0;
      return winner;
    },
    (error: unknown) => {
      outcome = null;
      for (const response of answered) discardResponse(response);
      answered.length = 0;
      throw error;
    },
  );
}
