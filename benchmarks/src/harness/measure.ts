import { collectGarbage, GcWatch } from './gc-watch.js';
import { summarize } from './stats.js';
import type { BytesResult, LatencyResult, MeasureOptions, Op } from './types.js';

let sink: unknown;

/** Keeps the last results reachable, so no call can be optimised away. */
export function consumeSink(): unknown {
  return sink;
}

async function loopAsync(run: () => unknown, n: number): Promise<number> {
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) sink = await run();
  return Number(process.hrtime.bigint() - start);
}

function loopSync(run: () => unknown, n: number): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) sink = run();
  return Number(process.hrtime.bigint() - start);
}

/** Runs `op.run` `n` times and returns the elapsed nanoseconds. */
export function timeLoop(op: Op, n: number): Promise<number> {
  return op.sync === true ? Promise.resolve(loopSync(op.run, n)) : loopAsync(op.run, n);
}

/** Runs `op` for about `ms` milliseconds, doubling the batch; returns ns per run of the last batch. */
async function warm(op: Op, ms: number): Promise<number> {
  const until = process.hrtime.bigint() + BigInt(Math.round(ms * 1e6));
  let n = 16;
  let nsPerRun = 0;
  do {
    nsPerRun = (await timeLoop(op, n)) / n;
    if (n < 1 << 20) n *= 2;
  } while (process.hrtime.bigint() < until);
  return nsPerRun;
}

/**
 * Bytes allocated per run: heapUsed deltas over batches after a full GC,
 * keeping only batches during which no GC ran (a GC would hide allocations).
 * A batch holds about 1,024 calls (4,096 for sync ops), at most `maxBatch`
 * runs, and halves whenever a GC interrupts it.
 */
async function bytesPerRun(op: Op, wanted: number, watch: GcWatch, maxBatch: number): Promise<number[]> {
  const calls = op.callsPerRun ?? 1;
  let batch = Math.max(1, Math.min(Math.ceil((op.sync === true ? 4096 : 1024) / calls), maxBatch));
  const perRun: number[] = [];
  for (let attempt = 0; perRun.length < wanted && attempt < wanted * 6; attempt++) {
    collectGarbage();
    const from = watch.now();
    const before = process.memoryUsage().heapUsed;
    await timeLoop(op, batch);
    const after = process.memoryUsage().heapUsed;
    const to = watch.now();
    if (await watch.ranBetween(from, to)) batch = Math.max(1, batch >> 1);
    else perRun.push((after - before) / batch);
  }
  return perRun;
}

/**
 * Measures bytes per call of `op` and `baseline` (per call, so runs of 1,000
 * calls divide by 1,000). Batches hold at most `maxBatch` runs, so slow
 * subjects stay quick to measure.
 */
export async function measureBytes(op: Op, baseline: Op, wanted: number, maxBatch = 4096): Promise<BytesResult | null> {
  const watch = new GcWatch();
  try {
    const subject = await bytesPerRun(op, wanted, watch, maxBatch);
    const base = await bytesPerRun(baseline, wanted, watch, maxBatch);
    if (subject.length === 0 || base.length === 0) return null;
    const s = summarize(subject).median / (op.callsPerRun ?? 1);
    const b = summarize(base).median / (baseline.callsPerRun ?? 1);
    return { subject: s, baseline: b, overhead: s - b, batches: Math.min(subject.length, base.length) };
  } finally {
    watch.close();
  }
}

/**
 * Times `op` against `baseline` in this process: warmup, then `rounds` rounds
 * of each, alternating so both see the same noise. Every round runs the same
 * number of iterations, sized so one subject round takes about `roundMs`.
 */
export async function measureLatency(op: Op, baseline: Op, options: MeasureOptions): Promise<LatencyResult> {
  await warm(baseline, options.warmupMs / 2);
  const nsPerRun = await warm(op, options.warmupMs);
  const iterations = Math.max(1, Math.round((options.roundMs * 1e6) / Math.max(nsPerRun, 1)));
  const calls = op.callsPerRun ?? 1;
  const baseCalls = baseline.callsPerRun ?? 1;
  const subjectNs: number[] = [];
  const baselineNs: number[] = [];
  const overheadNs: number[] = [];
  for (let round = 0; round < options.rounds; round++) {
    const b = (await timeLoop(baseline, iterations)) / (iterations * baseCalls);
    const s = (await timeLoop(op, iterations)) / (iterations * calls);
    baselineNs.push(b);
    subjectNs.push(s);
    overheadNs.push(s - b);
  }
  const bytes = await measureBytes(op, baseline, options.byteBatches, iterations);
  return {
    kind: 'latency',
    iterations,
    subjectNs: summarize(subjectNs),
    baselineNs: summarize(baselineNs),
    overheadNs: summarize(overheadNs),
    bytes,
  };
}
