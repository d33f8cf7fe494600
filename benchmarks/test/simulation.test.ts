import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { renderBulkheadSvg, renderTables, replaceRegion, type SimulationResults } from '../src/simulation/report.js';
import { compareBulkheads, compareHedging, compareOutage, type PhaseRow } from '../src/simulation/scenarios.js';

// The simulation of docs/adaptive.md in its short mode: deterministic (a fake clock and seeded random
// sources), so these are facts about the policies, not about this machine's speed.
let results: SimulationResults;

beforeAll(async () => {
  results = {
    mode: 'short',
    bulkheads: await compareBulkheads('short'),
    outage: await compareOutage('short'),
    hedging: await compareHedging('short'),
  };
}, 120_000);

function row(rows: readonly PhaseRow[], policy: string, phase: string): PhaseRow {
  const found = rows.find((r) => r.policy.startsWith(policy) && r.phase.startsWith(phase));
  if (found === undefined) throw new Error(`no row ${policy} / ${phase}`);
  return found;
}

describe('simulation: fixed vs adaptive bulkhead', () => {
  it('below capacity nobody is rejected and goodput is the offered load', () => {
    for (const policy of ['Bulkhead(200)', 'AdaptiveBulkhead gradient', 'AdaptiveBulkhead aimd']) {
      const r = row(results.bulkheads.rows, policy, '0.5×');
      expect(r.rejectedRate).toBe(0);
      expect(r.successRate).toBe(1);
    }
  });

  it('past capacity the gradient keeps p99 near the hand-tuned limit and far below a generous fixed one', () => {
    for (const phase of ['1.6×', '2×']) {
      const gradient = row(results.bulkheads.rows, 'AdaptiveBulkhead gradient', phase);
      const generous = row(results.bulkheads.rows, 'Bulkhead(200)', phase);
      const tuned = row(results.bulkheads.rows, 'Bulkhead(25)', phase);
      expect(gradient.p99).toBeLessThan(generous.p99 / 2);
      expect(gradient.p99).toBeLessThan(tuned.p99 * 1.5);
      expect(gradient.goodput).toBeGreaterThan(tuned.goodput * 0.85);
    }
  });
});

describe('simulation: circuit breaker vs adaptive throttle', () => {
  it('at 50 % failures the throttle keeps the successes a breaker throws away', () => {
    const none = row(results.outage.rows, 'no policy', '50');
    const breaker = row(results.outage.rows, 'CircuitBreaker', '50');
    const throttle = row(results.outage.rows, 'AdaptiveThrottle (k 2, window 10 s)', '50');
    expect(throttle.successRate).toBeGreaterThan(none.successRate * 0.9);
    expect(breaker.successRate).toBeLessThan(none.successRate / 4);
  });

  it('at 95 % failures both shed most of the load; the breaker recovers first', () => {
    const none = row(results.outage.rows, 'no policy', '95');
    const throttle = row(results.outage.rows, 'AdaptiveThrottle (k 2, window 2 s)', '95');
    const breaker = row(results.outage.rows, 'CircuitBreaker', '95');
    expect(throttle.sent).toBeLessThan(none.sent * 0.2);
    expect(breaker.sent).toBeLessThan(none.sent * 0.05);
    const recovery = (policy: string): number =>
      results.outage.recovery.find((r) => r.policy.startsWith(policy))?.ms ?? Number.NaN;
    expect(recovery('no policy')).toBe(0);
    expect(recovery('CircuitBreaker')).toBeLessThan(recovery('AdaptiveThrottle (k 2, window 2 s)'));
  });
});

describe('simulation: hedging against a long tail', () => {
  it('cuts p99 by an order of magnitude for about 5 % extra load, leaving p50 alone', () => {
    const none = results.hedging.find((r) => r.policy === 'no hedging');
    const hedged = results.hedging.find((r) => r.policy === 'Hedging(delay 20, maxHedges 1)');
    if (none === undefined || hedged === undefined) throw new Error('missing rows');
    expect(hedged.p99).toBeLessThan(none.p99 / 10);
    expect(hedged.extraLoad).toBeGreaterThan(0);
    expect(hedged.extraLoad).toBeLessThan(0.1);
    expect(Math.abs(hedged.p50 - none.p50)).toBeLessThan(1);
  });
});

describe('simulation report', () => {
  it('renders the tables and a plot, and docs/adaptive.md carries a full run', () => {
    const tables = renderTables(results);
    expect(tables).toContain('| AdaptiveBulkhead gradient |');
    expect(tables).toContain('time to recover');
    const svg = renderBulkheadSvg(results.bulkheads);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    expect(svg.match(/<polyline/g)).toHaveLength(8);
    expect(replaceRegion('a\n<!-- simulation:start -->\nold\n<!-- simulation:end -->\nb', 'new')).toBe(
      'a\n<!-- simulation:start -->\nnew\n<!-- simulation:end -->\nb',
    );
    const doc = readFileSync(new URL('../../docs/adaptive.md', import.meta.url), 'utf8');
    expect(doc).toContain('(full mode)');
    expect(doc).toContain('| AdaptiveBulkhead gradient |');
  });
});
