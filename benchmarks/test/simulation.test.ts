import { describe, expect, it } from 'vitest';
import { compareBulkheads, compareHedging, compareOutage } from '../src/simulation/scenarios.js';

describe('simulation (short mode)', () => {
  it('bulkheads', async () => {
    const r = await compareBulkheads('short');
    console.table(
      r.rows.map((x) => ({ ...x, goodput: Math.round(x.goodput), p99: Math.round(x.p99), p50: Math.round(x.p50) })),
    );
    expect(r.rows.length).toBeGreaterThan(0);
  }, 120_000);
  it('outage', async () => {
    const r = await compareOutage('short');
    console.table(r.rows.map((x) => ({ ...x, goodput: Math.round(x.goodput), p99: Math.round(x.p99) })));
    console.table(r.recovery);
  }, 120_000);
  it('hedging', async () => {
    const r = await compareHedging('short');
    console.table(r);
  }, 120_000);
});
