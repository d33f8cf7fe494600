import { getEventListeners } from 'node:events';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Hedging } from '../hedging/hedging.js';
import { FakeClock } from '../testing/index.js';
import { handle } from './classifier.js';

class Transient extends Error {}
class Final extends Error {}

type Kind = 'ok' | 'handled-error' | 'final-error' | 'handled-result';

/** A returned value of 100 or more is handled (a "503"). */
const classifier = handle(Transient).orResult((value: number) => value >= 100);

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('Hedging with handle, property', () => {
  it('settles exactly once, with an outcome the classifier allows, aborts what it must, leaves nothing behind', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.integer({ min: 0, max: 3 }),
        fc.boolean(),
        fc.array(
          fc.record({
            kind: fc.constantFrom<Kind>('ok', 'handled-error', 'final-error', 'handled-result'),
            sync: fc.boolean(),
          }),
          { minLength: 4, maxLength: 4 },
        ),
        fc.option(fc.integer({ min: 0, max: 30 })),
        // At which 5 ms steps one pending attempt may settle (so that attempts overlap).
        fc.array(fc.boolean(), { minLength: 9, maxLength: 9 }),
        async (s, maxHedges, hedgeOnFailure, plans, abortAt, releases) => {
          const clock = new FakeClock();
          const hedging = new Hedging<number>({ delay: 10, maxHedges, hedgeOnFailure, clock, handle: classifier });
          const controller = new AbortController();
          const signals: AbortSignal[] = [];
          const settledAttempts: number[] = [];
          let settles = 0;
          /** How many attempts had settled when the call did. */
          let settledBefore = -1;
          /** How many attempts had started when the call settled. */
          let startedBefore = -1;
          let result: { value?: number; error?: unknown } | undefined;
          const outcomeOf = (i: number, kind: Kind): number => {
            settledAttempts.push(i);
            if (kind === 'handled-error') throw new Transient(`transient ${i}`);
            if (kind === 'final-error') throw new Final(`final ${i}`);
            return kind === 'handled-result' ? 100 + i : i;
          };
          const call = hedging.execute(
            (ctx) => {
              const i = ctx.attempt - 1;
              signals.push(ctx.signal);
              const plan = plans[i] as { kind: Kind; sync: boolean };
              if (plan.sync) return outcomeOf(i, plan.kind);
              return s.schedule(Promise.resolve(), `attempt ${i}`).then(() => outcomeOf(i, plan.kind));
            },
            { signal: controller.signal },
          );
          call.then(
            (value) => {
              settles++;
              settledBefore = settledAttempts.length;
              startedBefore = signals.length;
              result = { value };
            },
            (error: unknown) => {
              settles++;
              settledBefore = settledAttempts.length;
              startedBefore = signals.length;
              result = { error };
            },
          );
          for (let t = 0; t <= 40; t += 5) {
            if (abortAt !== null && t === abortAt - (abortAt % 5)) controller.abort(new Error('caller'));
            await clock.advance(5);
            if (releases[t / 5] === true && s.count() > 0) await s.waitOne();
          }
          await s.waitIdle();
          await Promise.allSettled([call]);
          await flush();

          expect(settles).toBe(1);
          expect(signals.length).toBeLessThanOrEqual(1 + maxHedges);
          const unsettledAborted = (except: number): void => {
            signals.forEach((signal, i) => {
              if (i !== except && !settledAttempts.includes(i)) expect(signal.aborted).toBe(true);
            });
          };
          // Every attempt started by the time the call settled had settled too.
          const settledAll = startedBefore === settledBefore;
          if (result?.value !== undefined) {
            const value = result.value;
            if (value >= 100) {
              // A handled result settles the call only when nothing else is left running.
              expect(plans[value - 100]?.kind).toBe('handled-result');
              expect(settledAll).toBe(true);
            } else {
              expect(plans[value]?.kind).toBe('ok');
              unsettledAborted(value);
            }
          } else if (controller.signal.aborted && result?.error === controller.signal.reason) {
            unsettledAborted(-1);
          } else if (result?.error instanceof Final) {
            // An error the classifier does not handle ends the call at once.
            unsettledAborted(-1);
          } else {
            expect(result?.error).toBeInstanceOf(Transient);
            expect(settledAll).toBe(true);
          }
          // The model: the first attempt that ended in a success or an unhandled error decides the call; when none
          // did, the call settled with the last handled outcome (unless the caller aborted first).
          if (!(controller.signal.aborted && result?.error === controller.signal.reason)) {
            const before = settledAttempts.slice(0, settledBefore);
            const decisive = before.find((i) => plans[i]?.kind === 'ok' || plans[i]?.kind === 'final-error');
            const expected = decisive ?? before[before.length - 1];
            const got =
              result?.value !== undefined
                ? result.value % 100
                : Number(/\d+$/.exec(String((result?.error as Error | undefined)?.message))?.[0]);
            expect(got).toBe(expected);
          }
          expect(clock.pendingTimers).toBe(0);
          expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
        },
      ),
      { numRuns: 300 },
    );
  });
});
