import type { ChaosInjection } from './types.js';

/**
 * The events of a `Chaos` policy and their payloads, for `chaos.on(event, listener)`.
 * Listeners run synchronously, after the config hook (`onInject`).
 */
export interface ChaosEvents {
  /**
   * Something was injected into a picked call: `'latency'` (before the wait),
   * then `'fault'` or `'result'`; `attempt` is the call's `ctx.attempt`.
   */
  readonly injected: { readonly injection: ChaosInjection; readonly attempt: number };
}

/** The names of {@link ChaosEvents}. */
export const chaosEvents: readonly (keyof ChaosEvents)[] = ['injected'];
