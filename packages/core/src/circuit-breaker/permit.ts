import { CANCELLED, classifyError, FAILURE, IGNORED, type Outcome, SUCCESS } from './outcome.js';
import type { CircuitStateMachine } from './state-machine.js';
import type { CircuitPermit } from './types.js';

/** The permit of one admitted call; only its first report counts. */
export class BreakerPermit implements CircuitPermit {
  #machine: CircuitStateMachine<unknown> | undefined;
  readonly #generation: number;
  readonly #start: number;

  /**
   * @param machine - the state machine of the breaker that admitted the call
   * @param generation - its generation at admission
   * @param start - the clock time of admission (0 when durations are not measured)
   */
  constructor(machine: CircuitStateMachine<never>, generation: number, start: number) {
    this.#machine = machine as CircuitStateMachine<unknown>;
    this.#generation = generation;
    this.#start = start;
  }

  /** Reports a success (see {@link CircuitPermit.success}). */
  success(): void {
    this.#report(SUCCESS);
  }

  /** Reports a failure, classifying `error` when given (see {@link CircuitPermit.failure}). */
  failure(error?: unknown): void {
    const machine = this.#machine;
    if (machine === undefined) return;
    this.#report(error === undefined ? FAILURE : classifyError(machine.settings, machine.telemetry, error), error);
  }

  /** Reports neither (see {@link CircuitPermit.ignore}). */
  ignore(): void {
    this.#report(IGNORED);
  }

  /** Reports a cancellation (see {@link CircuitPermit.cancel}). */
  cancel(): void {
    this.#report(CANCELLED);
  }

  /** Counts the first report only (and tells the breaker's listeners, if any). */
  #report(outcome: Outcome, error?: unknown): void {
    const machine = this.#machine;
    if (machine === undefined) return;
    this.#machine = undefined;
    const events = machine.events;
    if (events !== undefined) {
      if (outcome === SUCCESS) events.emit('success', error === undefined ? {} : { error });
      else if (outcome === FAILURE) events.emit('failure', { error });
      else if (outcome === IGNORED) events.emit('ignored', { error });
      else events.emit('cancelled', {});
    }
    machine.record(this.#generation, outcome, this.#start);
  }
}
