import { describe, expect, it } from 'vitest';
import { nodeBinary, nodeVersion } from '../src/harness/node-binary.js';
import { runInChild, type SpawnOptions } from '../src/harness/spawn.js';
import { summarize } from '../src/harness/stats.js';
import type { MeasureOptions, SubjectOutcome } from '../src/harness/types.js';
import { scenarios } from '../src/scenarios/index.js';

const tiny: MeasureOptions = {
  warmupMs: 20,
  rounds: 3,
  roundMs: 5,
  byteBatches: 2,
  instances: 200,
  httpSeconds: 0,
  httpRounds: 0,
};

// The children run the TypeScript sources through tsx (the benchmarks themselves run the built JS).
const spawn: SpawnOptions = {
  childUrl: new URL('../src/harness/child.ts', import.meta.url),
  registryUrl: new URL('./fixtures/registry.ts', import.meta.url),
  execArgv: ['--import', 'tsx'],
  cwd: new URL('..', import.meta.url).pathname,
  timeoutMs: 15_000,
};

function ok(outcome: SubjectOutcome) {
  if (outcome.status !== 'ok') throw new Error(`expected ok, got ${outcome.status}: ${outcome.reason}`);
  return outcome.result;
}

describe('summarize', () => {
  it('gives median, min and max of odd and even series', () => {
    expect(summarize([3, 1, 2])).toEqual({ median: 2, min: 1, max: 3 });
    expect(summarize([4, 1, 3, 2])).toEqual({ median: 2.5, min: 1, max: 4 });
  });

  it('refuses an empty series', () => {
    expect(() => summarize([])).toThrow(RangeError);
  });
});

describe('runInChild', () => {
  it('times an async subject against the baseline in the same child and reports the shape', async () => {
    const result = ok(await runInChild('trivial', 'wrapped', tiny, spawn));
    if (result.kind !== 'latency') throw new Error(`expected latency, got ${result.kind}`);
    expect(result.iterations).toBeGreaterThan(0);
    for (const summary of [result.subjectNs, result.baselineNs, result.overheadNs]) {
      expect(Number.isFinite(summary.median)).toBe(true);
      expect(summary.min).toBeLessThanOrEqual(summary.median);
      expect(summary.median).toBeLessThanOrEqual(summary.max);
    }
    expect(result.subjectNs.min).toBeGreaterThan(0);
    // An awaited call allocates (its promise); the bytes come from GC-free batches.
    expect(result.bytes).not.toBeNull();
    expect(result.bytes?.subject).toBeGreaterThan(0);
    expect(result.bytes?.overhead).toBeCloseTo((result.bytes?.subject ?? 0) - (result.bytes?.baseline ?? 0));
  });

  it('runs a sync subject without awaiting it', async () => {
    const result = ok(await runInChild('trivial', 'sync', tiny, spawn));
    expect(result.kind).toBe('latency');
  });

  it('measures heap per instance', async () => {
    // Enough instances that stray allocations of the process are small beside them.
    const result = ok(await runInChild('trivial', 'objects', { ...tiny, instances: 20_000 }, spawn));
    if (result.kind !== 'instance') throw new Error(`expected instance, got ${result.kind}`);
    expect(result.instances).toBe(20_000);
    // Four small fields and a header: tens of bytes, not zero and not kilobytes.
    expect(result.bytesPerInstance.median).toBeGreaterThan(8);
    expect(result.bytesPerInstance.median).toBeLessThan(1000);
  });

  it('reports a subject that is not available, and one whose setup throws', async () => {
    expect(await runInChild('trivial', 'missing', tiny, spawn)).toEqual({ status: 'unavailable', reason: 'no export' });
    const broken = await runInChild('trivial', 'broken', tiny, spawn);
    expect(broken.status).toBe('failed');
    expect(broken.status === 'failed' && broken.reason).toContain('setup broke');
  });

  it('hands a server subject port to onListening and stops the child afterwards', async () => {
    const outcome = await runInChild('trivial', 'server', tiny, {
      ...spawn,
      onListening: async (port) => {
        const body = await (await fetch(`http://127.0.0.1:${port}/`)).text();
        return { status: 'unavailable', reason: `answered ${body}` };
      },
    });
    expect(outcome).toEqual({ status: 'unavailable', reason: 'answered ok' });
  });

  it('fails an unknown subject with the reason', async () => {
    const outcome = await runInChild('trivial', 'nope', tiny, spawn);
    expect(outcome.status).toBe('failed');
    expect(outcome.status === 'failed' && outcome.reason).toContain('unknown trivial/nope');
  });
});

describe('a child on another Node.js (the newest competitors need Node 22)', () => {
  it('runs cockatiel 4 in a child on a Node 22 from the registry, beside the Node 20 rows', async () => {
    const node22 = nodeBinary(22);
    expect(nodeVersion(node22)).toMatch(/^v22\./);
    const scenario = scenarios.find((s) => s.id === 'bulkhead-uncontended');
    const newest = scenario?.subjects.find((s) => s.library === 'cockatiel-4');
    expect(newest).toMatchObject({ id: 'cockatiel@4', node: 22, label: 'cockatiel 4 bulkhead' });
    const result = ok(
      await runInChild('bulkhead-uncontended', 'cockatiel@4', tiny, {
        ...spawn,
        registryUrl: new URL('../src/scenarios/index.ts', import.meta.url),
        execPath: node22,
        timeoutMs: 60_000,
      }),
    );
    expect(result.kind).toBe('latency');
  }, 120_000);

  it('puts a Node 22 row beside ours and each cockatiel and opossum subject, and refuses a bad major', () => {
    const breaker = scenarios.find((s) => s.id === 'breaker-closed');
    expect(breaker?.subjects.filter((s) => s.node === 22).map((s) => s.id)).toEqual([
      'ours@node22',
      'cockatiel@4',
      'opossum-no-timeout@10',
      'opossum@10',
    ]);
    expect(breaker?.subjects.filter((s) => s.node === undefined).map((s) => s.library)).toEqual([
      '@resilience/core',
      'cockatiel',
      'opossum',
      'opossum',
      'node', // the yardstick: one extra async layer
    ]);
    expect(() => nodeBinary(Number.NaN)).toThrow(/NaN/);
    expect(() => nodeBinary(18)).toThrow(/18/);
  });
});
