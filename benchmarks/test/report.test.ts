import { describe, expect, it } from 'vitest';
import type { LatencyResult, SubjectOutcome } from '../src/harness/types.js';
import { formatBytes, formatNs, formatRatio } from '../src/report/format.js';
import { renderMarkdown } from '../src/report/markdown.js';
import { type BenchReport, costOf, ratioOf, type ScenarioReport, verdicts } from '../src/report/model.js';
import { README_END, README_START, renderReadmeTable, replaceRegion } from '../src/report/readme.js';

function latency(overhead: number, bytesOverhead = 100): SubjectOutcome {
  const result: LatencyResult = {
    kind: 'latency',
    iterations: 1000,
    subjectNs: { median: 40 + overhead, min: 39 + overhead, max: 45 + overhead },
    baselineNs: { median: 40, min: 39, max: 41 },
    overheadNs: { median: overhead, min: overhead - 1, max: overhead + 5 },
    bytes: { subject: 250 + bytesOverhead, baseline: 250, overhead: bytesOverhead, batches: 4 },
  };
  return { status: 'ok', result };
}

const breaker: ScenarioReport = {
  id: 'breaker-closed',
  title: 'Circuit breaker, closed fast path',
  kind: 'latency',
  config: 'same for all',
  baselineLabel: 'await fn()',
  targets: [
    { subject: 'ours', against: 'cockatiel', maxRatio: 0.5 },
    { subject: 'ours', against: 'opossum', maxRatio: 0.2 },
    { subject: 'ours', against: 'gone', maxRatio: 0.2 },
  ],
  subjects: [
    { id: 'ours', label: 'ours', library: '@resilience/core', outcome: latency(40) },
    { id: 'cockatiel', label: 'cockatiel', library: 'cockatiel', outcome: latency(120) },
    { id: 'opossum', label: 'opossum', library: 'opossum', outcome: latency(160) },
    { id: 'gone', label: 'gone', library: 'gone', outcome: { status: 'failed', reason: 'boom\nstack' } },
  ],
};

const limiter: ScenarioReport = {
  id: 'rate-limit-1-key',
  title: 'Rate-limit decision, 1 key',
  kind: 'latency',
  config: 'same',
  baselineLabel: 'key',
  targets: [{ subject: 'ours', against: 'rlf', maxRatio: 0.2, maxOverheadBytes: 0.5 }],
  subjects: [
    { id: 'ours', label: 'ours allow', library: '@resilience/core', outcome: latency(-2, 0) },
    { id: 'rlf', label: 'rlf', library: 'rate-limiter-flexible', outcome: latency(200, 500) },
  ],
};

const http: ScenarioReport = {
  id: 'express',
  title: 'Express',
  kind: 'http',
  config: 'same',
  baselineLabel: 'bare',
  baselineSubject: 'bare',
  targets: [],
  subjects: [
    {
      id: 'bare',
      label: 'bare',
      library: 'express',
      outcome: {
        status: 'ok',
        result: {
          kind: 'http',
          requestsPerSecond: { median: 10_000, min: 9000, max: 11_000 },
          meanRequestsPerSecond: 10_000,
          latencyMeanMs: 1,
          latencyP99Ms: 3,
          requests: 40_000,
          non2xx: 0,
          errors: 0,
        },
      },
    },
    {
      id: 'ours',
      label: 'ours',
      library: '@resilience/express',
      outcome: { status: 'unavailable', reason: 'not built' },
    },
    {
      id: 'erl',
      label: 'express-rate-limit',
      library: 'express-rate-limit',
      outcome: {
        status: 'ok',
        result: {
          kind: 'http',
          requestsPerSecond: { median: 8000, min: 7000, max: 9000 },
          meanRequestsPerSecond: 8000,
          latencyMeanMs: 1.2,
          latencyP99Ms: 4,
          requests: 32_000,
          non2xx: 0,
          errors: 0,
        },
      },
    },
  ],
};

const report: BenchReport = {
  date: '2026-01-02T03:04:05.000Z',
  quick: true,
  machine: {
    cpu: 'Test CPU',
    cores: 2,
    memoryGiB: 8,
    os: 'Linux',
    node: 'v20.20.2',
    v8: '11.3',
    loadAverage: '0.5 → 0.7',
  },
  versions: { cockatiel: '3.2.1', '@resilience/core': '0.0.0 (built from abc1234)' },
  childFlags: ['--expose-gc'],
  settings: { rounds: 5 },
  scenarios: [breaker, limiter, http],
};

describe('ratios and targets', () => {
  it('compares overheads, ours over theirs', () => {
    expect(costOf(breaker, 'ours')).toBe(40);
    expect(ratioOf(breaker, 'ours', 'cockatiel')).toBeCloseTo(1 / 3);
    expect(ratioOf(breaker, 'ours', 'gone')).toBeUndefined();
  });

  it('passes, misses, or says what was not measured', () => {
    expect(verdicts(breaker).map((v) => v.status)).toEqual(['pass', 'miss', 'not measured']);
  });

  it('counts an overhead lost in the noise as 0 and checks the bytes bound', () => {
    const [v] = verdicts(limiter);
    expect(v).toMatchObject({ status: 'pass', ratio: 0, overheadBytes: 0 });
  });

  it('turns requests per second into microseconds per request over the bare server', () => {
    expect(costOf(http, 'bare')).toBeUndefined();
    expect(costOf(http, 'ours')).toBeUndefined();
    // 1e6 / 8,000 − 1e6 / 10,000 = 125 µs − 100 µs.
    expect(costOf(http, 'erl')).toBeCloseTo(25);
  });
});

describe('formatting', () => {
  it('picks units', () => {
    expect(formatNs(123.4)).toBe('123 ns');
    expect(formatNs(12_345)).toBe('12.3 µs');
    expect(formatBytes(975)).toBe('975 B');
    expect(formatBytes(1234)).toBe('1.23 kB');
    expect(formatRatio(0.004)).toBe('<0.01×');
    expect(formatRatio(undefined)).toBe('—');
  });
});

describe('renderMarkdown', () => {
  const md = renderMarkdown(report);

  it('has the machine, versions, a target table and a table per scenario', () => {
    expect(md).toContain('| Test CPU | 2 | 8 GiB | Linux | v20.20.2 | 11.3 | 0.5 → 0.7 |');
    expect(md).toContain('| cockatiel | 3.2.1 |');
    expect(md).toContain('| Circuit breaker, closed fast path | ≤ 0.5× cockatiel | 0.333× | ✅ pass |');
    expect(md).toContain('| Circuit breaker, closed fast path | ≤ 0.2× opossum | 0.250× | ❌ miss |');
    expect(md).toContain('## Rate-limit decision, 1 key');
    expect(md).toContain('## How measured');
    expect(md).toContain('Quick run');
  });

  it('explains a missed target under its table, and only a missed one', () => {
    expect(md).toContain('**Why the target is missed:** The closed path');
    expect(md).not.toContain('**Why the target is missed:** Each `allow()`');
  });

  it('writes rows for failures and subjects not available yet', () => {
    expect(md).toContain('| gone | failed: boom |');
    expect(md).toContain('not yet available (not built)');
    expect(md).toContain('| express-rate-limit | 8000 (7000 – 9000) | 8000 | 1.20 ms | 4.00 ms | 25.0 µs | 0 | — |');
  });
});

describe('README region', () => {
  it('replaces only what lies between the markers', () => {
    const readme = `# x\n\n${README_START}\nold\n${README_END}\n\nafter\n`;
    const next = replaceRegion(readme, renderReadmeTable(report));
    expect(next.startsWith(`# x\n\n${README_START}\n`)).toBe(true);
    expect(next.endsWith(`${README_END}\n\nafter\n`)).toBe(true);
    expect(next).not.toContain('old');
    expect(next).toContain('| Circuit breaker, closed fast path | +40 ns | cockatiel: +120 ns (ours 0.333×)');
  });

  it('names the versions of the libraries it compared, not ours', () => {
    const text = renderReadmeTable(report);
    expect(text).toContain('Compared with: cockatiel 3.2.1.');
    expect(text).not.toMatch(/Compared with:.*@resilience/);
  });

  it('refuses a README without the markers', () => {
    expect(() => replaceRegion('# no markers', 'x')).toThrow(/benchmarks:start/);
  });
});

describe('rows run on another Node (the newest cockatiel and opossum)', () => {
  const scenario: ScenarioReport = {
    ...breaker,
    targets: [],
    subjects: [
      { id: 'ours', label: 'ours', library: '@resilience/core', outcome: latency(40) },
      { id: 'cockatiel', label: 'cockatiel', library: 'cockatiel', outcome: latency(120) },
      { id: 'ours@node22', label: 'ours', library: '@resilience/core', node: 'v22.1.0', outcome: latency(20) },
      { id: 'cockatiel@4', label: 'cockatiel 4', library: 'cockatiel-4', node: 'v22.1.0', outcome: latency(80) },
    ],
  };
  const two: BenchReport = {
    ...report,
    versions: { ...report.versions, 'cockatiel (installed as cockatiel-4)': '4.0.0, on Node v22.1.0' },
    scenarios: [scenario],
  };

  it('names the Node in the row and gives ratios only between rows on the same Node', () => {
    const md = renderMarkdown(two);
    // Columns: ours ÷ this, ours@node22 ÷ this.
    expect(md).toContain('| cockatiel | 120 ns (119 ns – 125 ns) | 160 ns | 40 ns | 100 B | 350 B | 0.333× | — |');
    expect(md).toContain(
      '| cockatiel 4, on Node v22.1.0 | 80 ns (79 ns – 85 ns) | 120 ns | 40 ns | 100 B | 350 B | — | 0.250× |',
    );
    expect(md).toContain('| ours, on Node v22.1.0 |');
    expect(md).toContain('| cockatiel (installed as cockatiel-4) | 4.0.0, on Node v22.1.0 |');
  });

  it('compares a newest row with ours on the same Node in the README table', () => {
    const table = renderReadmeTable(two);
    expect(table).toContain('cockatiel: +120 ns (ours 0.333×)');
    expect(table).toContain('cockatiel 4, on Node v22.1.0: +80 ns (ours on the same Node 0.250×)');
  });
});

describe('parts of a composition (its steps, one boundary)', () => {
  it('are rows of their own without a ratio column', () => {
    const scenario: ScenarioReport = {
      ...breaker,
      targets: [{ kind: 'sum', subject: 'ours', parts: ['step'] }],
      subjects: [
        { id: 'ours', label: 'ours', library: '@resilience/core', outcome: latency(40) },
        { id: 'step', label: 'a step alone', library: '@resilience/core', outcome: latency(10) },
        { id: 'pair', label: 'one boundary', library: '@resilience/core', component: true, outcome: latency(25) },
        { id: 'cockatiel', label: 'cockatiel', library: 'cockatiel', outcome: latency(120) },
      ],
    };
    const md = renderMarkdown({ ...report, scenarios: [scenario] });
    // One ratio column (ours ÷ this): the step and the boundary are rows, not columns.
    expect(md).toContain('| cockatiel | 120 ns (119 ns – 125 ns) | 160 ns | 40 ns | 100 B | 350 B | 0.333× |\n');
    expect(md).toContain('| one boundary | 25 ns (24 ns – 30 ns) | 65 ns | 40 ns | 100 B | 350 B | — |\n');
  });
});
