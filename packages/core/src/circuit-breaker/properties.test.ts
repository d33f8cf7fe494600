import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isCircuitOpenError } from '../errors/guards.js';
import { FakeClock } from '../testing/index.js';
import { CircuitBreaker } from './circuit-breaker.js';
import type { CircuitBreakerConfig, CircuitBreakerSnapshot, CircuitPermit, Counts } from './types.js';

type Plan = 'success' | 'failure' | 'ignored' | 'failure-result';

const plan: fc.Arbitrary<Plan> = fc.constantFrom('success', 'failure', 'ignored', 'failure-result');

const command = fc.oneof(
  fc.record({ kind: fc.constant('call' as const), plan }),
  fc.record({ kind: fc.constant('acquire' as const) }),
  fc.record({ kind: fc.constant('report' as const), index: fc.nat(), plan }),
  fc.record({ kind: fc.constant('settle' as const) }),
  fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 120 }) }),
);

const config = fc.record({
  maxRequests: fc.integer({ min: 1, max: 3 }),
  timeout: fc.integer({ min: 5, max: 100 }),
  halfOpenTimeout: fc.oneof(fc.constant(Number.POSITIVE_INFINITY), fc.integer({ min: 10, max: 200 })),
  tripAfter: fc.integer({ min: 1, max: 3 }),
  backoffMultiplier: fc.constantFrom(1, 2),
  window: fc.boolean(),
});

class Ignored extends Error {}

function checkCounts(counts: Counts): void {
  for (const value of Object.values(counts)) expect(value).toBeGreaterThanOrEqual(0);
  expect(counts.requests).toBeGreaterThanOrEqual(counts.totalSuccesses + counts.totalFailures);
  expect(counts.consecutiveSuccesses).toBeLessThanOrEqual(counts.totalSuccesses);
  expect(counts.consecutiveFailures).toBeLessThanOrEqual(counts.totalFailures);
}

function comparable(breaker: { toJSON(): CircuitBreakerSnapshot }): unknown {
  const { savedAt: _savedAt, ...rest } = breaker.toJSON();
  return rest;
}

describe('CircuitBreaker: properties', () => {
  it('admits at most maxRequests per half-open episode, ignores stale results, settles every call once with its own outcome, keeps counts sane', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        config,
        fc.array(command, { minLength: 1, maxLength: 50 }),
        async (s, cfg, commands) => {
          const clock = new FakeClock();
          let state = 'closed';
          let transitions = 0;
          let episode = 0;
          const admittedInEpisode = new Map<number, number>();
          const breakerConfig: CircuitBreakerConfig<{ failed: boolean }> = {
            clock,
            maxRequests: cfg.maxRequests,
            timeout: cfg.timeout,
            halfOpenTimeout: cfg.halfOpenTimeout,
            backoffMultiplier: cfg.backoffMultiplier,
            readyToTrip: (c) => c.consecutiveFailures >= cfg.tripAfter,
            isIgnored: (e) => e instanceof Ignored,
            isFailureResult: (r) => r.failed,
            onStateChange: (_from, to) => {
              state = to;
              transitions++;
              if (to === 'half-open') episode++;
            },
            ...(cfg.window ? { window: { kind: 'count', size: 4 }, minimumCalls: 2 } : {}),
          };
          const breaker = new CircuitBreaker<{ failed: boolean }>(breakerConfig);
          const admitted = (): void => {
            if (state !== 'half-open') return;
            const n = (admittedInEpisode.get(episode) ?? 0) + 1;
            admittedInEpisode.set(episode, n);
            expect(n).toBeLessThanOrEqual(cfg.maxRequests);
          };
          // An ignored outcome gives its half-open slot back (issue 3), when its generation is still current.
          const ignoredIn = (epoch: number): void => {
            if (state !== 'half-open' || epoch !== transitions) return;
            admittedInEpisode.set(episode, (admittedInEpisode.get(episode) ?? 0) - 1);
          };
          const permits: { permit: CircuitPermit; epoch: number }[] = [];
          const permitsReported = new Set<CircuitPermit>();
          const calls: { promise: Promise<void>; settled: number }[] = [];

          for (const [i, cmd] of commands.entries()) {
            if (cmd.kind === 'call') {
              const value = { failed: cmd.plan === 'failure-result' };
              const error = cmd.plan === 'ignored' ? new Ignored(`call ${i}`) : new Error(`call ${i}`);
              let called = false;
              const work = async () => {
                called = true;
                admitted();
                const epoch = transitions;
                await s.schedule(Promise.resolve(), `call ${i}`);
                if (cmd.plan === 'ignored') ignoredIn(epoch);
                if (cmd.plan === 'failure' || cmd.plan === 'ignored') throw error;
                return value;
              };
              const entry = { promise: Promise.resolve(), settled: 0 };
              entry.promise = breaker.execute(work).then(
                (result) => {
                  entry.settled++;
                  expect(called).toBe(true);
                  expect(result).toBe(value);
                },
                (err: unknown) => {
                  entry.settled++;
                  if (called) expect(err).toBe(error);
                  else expect(isCircuitOpenError(err)).toBe(true);
                },
              );
              calls.push(entry);
            } else if (cmd.kind === 'acquire') {
              try {
                const permit = breaker.acquire();
                admitted();
                permits.push({ permit, epoch: transitions });
              } catch (err) {
                expect(isCircuitOpenError(err)).toBe(true);
              }
            } else if (cmd.kind === 'report' && permits.length > 0) {
              const { permit, epoch } = permits[cmd.index % permits.length]!;
              expect(breaker.state).toBe(state); // apply any transition that time made due
              const stale = epoch !== transitions;
              const before = comparable(breaker);
              const transitionsBefore = transitions;
              if (cmd.plan === 'success') permit.success();
              else if (cmd.plan === 'ignored') {
                if (!permitsReported.has(permit)) ignoredIn(epoch);
                permit.ignore();
              } else permit.failure(cmd.plan === 'failure' ? new Error('reported') : undefined);
              permitsReported.add(permit);
              if (stale) {
                expect(transitions).toBe(transitionsBefore);
                expect(comparable(breaker)).toEqual(before);
              }
            } else if (cmd.kind === 'settle') {
              if (s.count() > 0) await s.waitOne();
            } else if (cmd.kind === 'advance') {
              await clock.advance(cmd.ms);
            }
            checkCounts(breaker.counts);
            expect(breaker.state).toBe(state);
          }
          await s.waitAll();
          await Promise.all(calls.map((c) => c.promise));
          for (const call of calls) expect(call.settled).toBe(1);
          checkCounts(breaker.counts);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('a result from an earlier generation never changes the state or the counts (execute, random completion order)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.array(
          fc.record({ fail: fc.boolean(), advance: fc.integer({ min: 0, max: 30 }), releases: fc.nat({ max: 2 }) }),
          { minLength: 1, maxLength: 20 },
        ),
        async (s, plans) => {
          const clock = new FakeClock();
          let transitions = 0;
          const breaker = new CircuitBreaker({
            clock,
            timeout: 20,
            maxRequests: 2,
            halfOpenTimeout: Number.POSITIVE_INFINITY,
            readyToTrip: (c) => c.consecutiveFailures >= 2,
            onStateChange: () => transitions++,
          });
          const epochs: number[] = [];
          let released = -1;
          const pending: Promise<unknown>[] = [];
          const releaseOne = async (): Promise<void> => {
            expect(breaker.state).toBeDefined(); // apply transitions that time made due, before the snapshot
            const before = comparable(breaker);
            const transitionsBefore = transitions;
            released = -1;
            await s.waitOne();
            await new Promise<void>((resolve) => setImmediate(resolve));
            const epoch = epochs[released];
            if (epoch !== undefined && epoch !== transitionsBefore) {
              // Only this call finished and time stood still: a stale result must change nothing.
              expect(transitions).toBe(transitionsBefore);
              expect(comparable(breaker)).toEqual(before);
            }
          };
          for (const [i, p] of plans.entries()) {
            pending.push(
              breaker
                .execute(async () => {
                  epochs[i] = transitions;
                  await s.schedule(Promise.resolve(), `call ${i}`);
                  released = i;
                  if (p.fail) throw new Error(`call ${i}`);
                  return i;
                })
                .catch(() => undefined),
            );
            await clock.advance(p.advance);
            for (let r = 0; r < p.releases && s.count() > 0; r++) await releaseOne();
          }
          while (s.count() > 0) await releaseOne();
          await Promise.all(pending);
        },
      ),
      { numRuns: 100 },
    );
  });
});
