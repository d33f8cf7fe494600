import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LatencyResult, SubjectOutcome } from '../src/harness/types.js';
import {
  decades,
  escapeXml,
  formatCount,
  growthSeries,
  renderGrowthPlot,
  renderGrowthSvg,
} from '../src/report/growth-svg.js';
import { goalText, measuredText, renderMarkdown } from '../src/report/markdown.js';
import type { BenchReport, ScenarioReport, SubjectReport } from '../src/report/model.js';
import { verdicts } from '../src/report/model.js';
import { renderReadmeTable } from '../src/report/readme.js';
import { withNewestTargets } from '../src/scenarios/competitors.js';
import { sizeOf } from '../src/scenarios/growth.js';
import { matches, scenarios, selectScenarios } from '../src/scenarios/index.js';

/** A latency outcome: `ns` per call of the subject over a `base` ns baseline, `bytes` allocated over it. */
function latency(overhead: number, bytes = 0, base = 10): SubjectOutcome {
  const result: LatencyResult = {
    kind: 'latency',
    iterations: 1000,
    subjectNs: { median: base + overhead, min: base + overhead - 1, max: base + overhead + 2 },
    baselineNs: { median: base, min: base, max: base },
    overheadNs: { median: overhead, min: overhead - 1, max: overhead + 2 },
    bytes: { subject: bytes, baseline: 0, overhead: bytes, batches: 4 },
  };
  return { status: 'ok', result };
}

const decision: ScenarioReport = {
  id: 'rate-limit-1-key',
  title: 'Rate-limit decision, 1 key',
  kind: 'latency',
  config: 'same',
  baselineLabel: 'key',
  targets: [
    { subject: 'ours', against: 'rlf', maxRatio: 0.3 },
    { kind: 'plus', subject: 'ours', against: 'clock', maxExtraNs: 15 },
    { kind: 'plus', subject: 'ours-int', against: 'clock-int', maxExtraNs: 15 },
    { kind: 'bytes', subject: 'ours-int', maxOverheadBytes: 0.5 },
    { kind: 'bytes', subject: 'ours', maxOverheadBytes: 0.5 },
  ],
  subjects: [
    { id: 'clock', label: 'clock alone', library: 'node', outcome: latency(38, 16) },
    { id: 'clock-int', label: 'integer clock alone', library: 'node', outcome: latency(2, 0) },
    { id: 'ours', label: 'ours allow', library: '@resilience/core', outcome: latency(50, 16) },
    { id: 'ours-int', label: 'ours allow, integer clock', library: '@resilience/core', outcome: latency(20, 0) },
    { id: 'rlf', label: 'rlf', library: 'rate-limiter-flexible', outcome: latency(200, 700) },
  ],
};

const memory: ScenarioReport = {
  id: 'memory-per-instance',
  title: 'Heap retained per pattern instance',
  kind: 'instance',
  config: 'defaults',
  baselineLabel: 'none',
  targets: [
    { kind: 'at-most', subject: 'ours', max: 100 },
    { kind: 'at-most', subject: 'ours-retry', max: 100 },
  ],
  subjects: [
    {
      id: 'ours',
      label: 'breaker',
      library: '@resilience/core',
      outcome: {
        status: 'ok',
        result: { kind: 'instance', instances: 100, bytesPerInstance: { median: 96, min: 90, max: 120 } },
      },
    },
    {
      id: 'ours-retry',
      label: 'retry',
      library: '@resilience/core',
      outcome: {
        status: 'ok',
        result: { kind: 'instance', instances: 100, bytesPerInstance: { median: 240, min: 230, max: 250 } },
      },
    },
  ],
};

const throughput: ScenarioReport = {
  id: 'pattern-throughput',
  title: 'Throughput',
  kind: 'throughput',
  config: 'one at a time',
  baselineLabel: 'await fn()',
  targets: [
    { kind: 'rate', subject: 'ours', minPerSecond: 1_000_000 },
    { kind: 'rate', subject: 'ours-slow', minPerSecond: 1_000_000 },
    { kind: 'rate', subject: 'ours-gone', minPerSecond: 1_000_000 },
  ],
  subjects: [
    // 40 ns per call → 25 M/s; 1,990 + 10 ns per call → 500 k/s.
    { id: 'ours', label: 'fast', library: '@resilience/core', outcome: latency(30) },
    { id: 'ours-slow', label: 'slow', library: '@resilience/core', outcome: latency(1990) },
    { id: 'ours-gone', label: 'gone', library: '@resilience/core', outcome: { status: 'failed', reason: 'boom' } },
  ],
};

const growth: ScenarioReport = {
  id: 'growth-bulkhead-queue',
  title: 'Growth: a <queue> & more',
  kind: 'throughput',
  config: 'n + 1 calls',
  baselineLabel: 'n calls',
  targets: [{ kind: 'flat', subjects: ['depth-10', 'depth-10k', 'depth-100k'], maxSpread: 3 }],
  growth: {
    axis: 'queue depth',
    legend: 'Bulkhead <queue> & more',
    points: [
      { subject: 'depth-10', x: 10 },
      { subject: 'depth-10k', x: 10_000 },
      { subject: 'depth-100k', x: 100_000 },
    ],
  },
  subjects: [
    { id: 'depth-10', label: 'depth 10', library: '@resilience/core', outcome: latency(100, 0, 50) },
    { id: 'depth-10k', label: 'depth 10k', library: '@resilience/core', outcome: latency(150, 0, 100) },
    { id: 'depth-100k', label: 'depth 100k', library: '@resilience/core', outcome: latency(250, 0, 200) },
  ],
};

const report: BenchReport = {
  date: '2026-01-02T03:04:05.000Z',
  quick: false,
  machine: {
    cpu: 'Test CPU',
    cores: 2,
    memoryGiB: 8,
    os: 'Linux',
    node: 'v20.20.2',
    v8: '11.3',
    loadAverage: '0.5 → 0.7',
  },
  versions: {},
  childFlags: ['--expose-gc'],
  settings: { rounds: 5 },
  scenarios: [decision, memory, throughput, growth],
};

describe('targets beyond ratios', () => {
  it('bounds a decision by the clock row + 15 ns and by bytes per call', () => {
    const v = verdicts(decision);
    expect(v.map((x) => x.status)).toEqual(['pass', 'pass', 'miss', 'pass', 'miss']);
    expect(v[1]?.value).toBe(12);
    expect(v[2]?.value).toBe(18);
    expect(v[3]?.overheadBytes).toBe(0);
    expect(v.map((x) => measuredText(x))).toEqual(['0.250×', '+12 ns', '+18 ns', '0 B/op', '16 B/op']);
    expect(goalText(decision, decision.targets[1] as never)).toBe('≤ clock alone + 15 ns');
    expect(goalText(decision, decision.targets[3] as never)).toBe(
      'ours allow, integer clock: ≤ 0.5 B/op over baseline',
    );
  });

  it('bounds bytes per instance absolutely', () => {
    const v = verdicts(memory);
    expect(v.map((x) => [x.status, x.value])).toEqual([
      ['pass', 96],
      ['miss', 240],
    ]);
    expect(goalText(memory, memory.targets[0] as never)).toBe('≤ 100 B per instance');
    expect(measuredText(v[1] as never)).toBe('240 B');
  });

  it('bounds a composition by the sum of its steps alone, measured in the same scenario', () => {
    const composition = (pipeline: number): ScenarioReport => ({
      id: 'composed',
      title: 'Composed',
      kind: 'latency',
      config: 'four steps',
      baselineLabel: 'await fn()',
      targets: [{ kind: 'sum', subject: 'ours', parts: ['a', 'b', 'c'] }],
      subjects: [
        { id: 'ours', label: 'ours pipeline', library: '@resilience/core', outcome: latency(pipeline) },
        { id: 'a', label: 'A alone', library: '@resilience/core', outcome: latency(100) },
        { id: 'b', label: 'B alone', library: '@resilience/core', outcome: latency(20) },
        // An overhead lost in the baseline's noise counts as 0, never as a credit.
        { id: 'c', label: 'C alone', library: '@resilience/core', outcome: latency(-3) },
      ],
    });
    const [under] = verdicts(composition(115));
    expect([under?.status, under?.value]).toEqual(['pass', -5]);
    expect(measuredText(under as never)).toBe('−5 ns over the sum');
    const [over] = verdicts(composition(150));
    expect([over?.status, over?.value]).toEqual(['miss', 30]);
    expect(goalText(composition(150), composition(150).targets[0] as never)).toBe(
      '≤ the sum of its steps (A alone + B alone + C alone)',
    );
  });

  it('turns ns per call (the work included) into calls per second', () => {
    const v = verdicts(throughput);
    expect(v.map((x) => x.status)).toEqual(['pass', 'miss', 'not measured']);
    expect(v[0]?.value).toBeCloseTo(25e6);
    expect(v[1]?.value).toBeCloseTo(500e3);
    expect(measuredText(v[0] as never)).toBe('25.00 M/s');
    expect(goalText(throughput, throughput.targets[1] as never)).toBe('slow: > 1.00 M/s');
  });

  it('judges flatness as the spread of overheads, and shows the baseline’s own spread', () => {
    const [v] = verdicts(growth);
    expect(v).toMatchObject({ status: 'pass', value: 2.5, baselineSpread: 4 });
    expect(measuredText(v as never)).toBe('2.50× (baseline: 4.00×)');
    expect(goalText(growth, growth.targets[0] as never)).toBe(
      'flat: largest ÷ smallest overhead per call ≤ 3× while the work grows 10,000×',
    );
    const missing: ScenarioReport = {
      ...growth,
      subjects: growth.subjects.map((s, i) => (i === 2 ? { ...s, outcome: { status: 'failed', reason: 'oom' } } : s)),
    };
    expect(verdicts(missing)[0]?.status).toBe('not measured');
  });

  it('writes the targets into the report and the README table', () => {
    const md = renderMarkdown(report);
    expect(md).toContain('| Rate-limit decision, 1 key | ≤ clock alone + 15 ns | +12 ns | ✅ pass |');
    expect(md).toContain('| Heap retained per pattern instance | ≤ 100 B per instance | 96 B | ✅ pass |');
    expect(md).toContain(
      '![Overhead per call against the size of the work: Bulkhead <queue> & more by queue depth](benchmarks-growth.svg)',
    );
    expect(renderReadmeTable(report)).toContain('| Throughput | > 1.00 M/s | 25.00 M/s | ✅ pass |');
  });

  it('lists every row of ours in the README table where no other library was measured', () => {
    const text = renderReadmeTable(report);
    expect(text).toContain('| Heap retained per pattern instance | 96 B | retry: 240 B |');
    expect(text).toContain(
      '| Growth: a <queue> & more | — | depth 10: +100 ns<br>depth 10k: +150 ns<br>depth 100k: +250 ns |',
    );
  });

  it('gives no ratio columns to a scenario that measures only ours', () => {
    const md = renderMarkdown(report);
    expect(md).toContain('| library | bytes per instance: median (min – max) |\n');
    expect(md).toContain('| breaker | 96 B (90 B – 120 B) |\n');
  });
});

describe('Node 22 targets', () => {
  it('repeats each ratio target of ours against cockatiel or opossum for the Node 22 rows', () => {
    const breaker = scenarios.find((s) => s.id === 'breaker-closed');
    expect(breaker?.targets).toContainEqual({ subject: 'ours@node22', against: 'cockatiel@4', maxRatio: 0.5 });
    expect(breaker?.targets).toContainEqual({ subject: 'ours@node22', against: 'opossum@10', maxRatio: 0.2 });
    expect(breaker?.targets).toContainEqual({
      subject: 'ours@node22',
      against: 'opossum-no-timeout@10',
      maxRatio: 0.2,
    });
    for (const scenario of scenarios) {
      const ids = new Set(scenario.subjects.map((s) => s.id));
      for (const target of scenario.targets) {
        if ('against' in target) expect(ids, `${scenario.id}: ${target.against}`).toContain(target.against);
        if ('subject' in target) expect(ids, `${scenario.id}: ${target.subject}`).toContain(target.subject);
        if ('subjects' in target) for (const id of target.subjects) expect(ids).toContain(id);
      }
    }
  });

  it('adds nothing where there is no Node 22 row or no anchor library', () => {
    const subjects = [{ id: 'ours', label: 'o', library: '@resilience/core', setup: async () => never() }];
    const targets = [{ subject: 'ours', against: 'rlf', maxRatio: 0.3 }];
    expect(withNewestTargets(subjects, targets)).toEqual(targets);
  });
});

function never(): never {
  throw new Error('not called');
}

describe('choosing scenarios', () => {
  it('takes exact ids and prefixes ending in *', () => {
    expect(matches('growth-*', 'growth-limiter-keys')).toBe(true);
    expect(matches('growth', 'growth-limiter-keys')).toBe(false);
    expect(selectScenarios(['growth-*']).map((s) => s.id)).toEqual([
      'growth-breaker-in-flight',
      'growth-limiter-keys',
      'growth-bulkhead-queue',
      'growth-retry-budget',
    ]);
    expect(selectScenarios(['memory-per-instance', 'nothing']).map((s) => s.id)).toEqual(['memory-per-instance']);
  });

  it('names, for every growth point, a subject whose id carries its size', () => {
    const grown = scenarios.filter((s) => s.growth !== undefined);
    expect(grown.map((s) => s.id)).toEqual([
      'growth-breaker-in-flight',
      'growth-limiter-keys',
      'growth-bulkhead-queue',
      'growth-retry-budget',
    ]);
    for (const scenario of grown) {
      const points = scenario.growth?.points ?? [];
      expect(points.map((p) => p.subject)).toEqual(scenario.subjects.map((s) => s.id));
      for (const point of points) expect(sizeOf(point.subject)).toBe(point.x);
      expect(scenario.targets).toContainEqual(expect.objectContaining({ kind: 'flat' }));
    }
  });

  it('reads the size of a growth row from its id', () => {
    expect(sizeOf('in-flight-1')).toBe(1);
    expect(sizeOf('depth-10k')).toBe(10_000);
    expect(sizeOf('keys-1M')).toBe(1_000_000);
    expect(() => sizeOf('ours')).toThrow(/names no size/);
  });
});

describe('the growth plot', () => {
  it('takes the measured points of each growth scenario, smallest first, overheads below 0 as 0', () => {
    const [d10, d10k, d100k] = growth.subjects as [SubjectReport, SubjectReport, SubjectReport];
    const lowered: ScenarioReport = {
      ...growth,
      subjects: [
        { ...d100k, outcome: latency(-5) },
        d10,
        { ...d10k, outcome: { status: 'unavailable', reason: 'no' } },
      ],
    };
    expect(growthSeries({ ...report, scenarios: [decision, lowered] })).toEqual([
      {
        title: 'Bulkhead <queue> & more',
        axis: 'queue depth',
        points: [
          { x: 10, ns: 100 },
          { x: 100_000, ns: 0 },
        ],
      },
    ]);
  });

  it('draws a line and labelled points per series, with escaped text', () => {
    const svg = renderGrowthPlot(report);
    expect(svg.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg"')).toBe(
      true,
    );
    expect(svg.match(/<polyline /g)).toHaveLength(1);
    expect(svg.match(/<circle /g)).toHaveLength(3);
    expect(svg).toContain('Bulkhead &lt;queue&gt; &amp; more');
    expect(svg).not.toContain('<queue>');
    for (const label of ['100 ns', '150 ns', '250 ns', '10', '1k', '100k', '1.00 µs'])
      expect(svg).toContain(`>${label}</text>`);
    expect(svg).toContain('2026-01-02, Node v20.20.2, 2 cores, load 0.5 → 0.7');
    expect(isBalanced(svg)).toBe(true);
  });

  it('still renders, saying so, when nothing was measured', () => {
    const svg = renderGrowthSvg([{ title: 'x', axis: 'keys', points: [] }], 'caption');
    expect(svg).toContain('no growth scenario was measured in this run');
    expect(svg).not.toContain('NaN');
    expect(isBalanced(svg)).toBe(true);
  });

  it('spans whole decades on its log axes, and writes short counts', () => {
    expect(decades([])).toEqual({ from: 0, to: 1 });
    expect(decades([1])).toEqual({ from: 0, to: 1 });
    expect(decades([34, 850])).toEqual({ from: 1, to: 3 });
    expect(decades([0, -3, Number.NaN, 10, 1_000_000])).toEqual({ from: 1, to: 6 });
    expect(formatCount(1)).toBe('1');
    expect(formatCount(100_000)).toBe('100k');
    expect(formatCount(1_000_000)).toBe('1M');
    expect(escapeXml(`a<b>&"'`)).toBe('a&lt;b&gt;&amp;&quot;&apos;');
  });

  const chromium = '/usr/bin/chromium';
  const haveChromium = existsSync(chromium) || process.env.CI === 'true';
  if (!haveChromium) {
    console.warn(
      `Skipping the SVG render test: ${chromium} is missing (apt-get update && apt-get install -y chromium)`,
    );
  }

  it.runIf(haveChromium)(
    'parses as XML and renders in headless chromium',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'growth-svg-'));
      try {
        const file = join(dir, 'growth.svg');
        writeFileSync(file, renderGrowthPlot(report));
        const flags = ['--headless', '--no-sandbox', '--disable-gpu', `--user-data-dir=${join(dir, 'profile')}`];
        // An XML error would make chromium show a parsererror page instead of the drawing.
        const dom = execFileSync(chromium, [...flags, '--dump-dom', `file://${file}`], {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'ignore'],
          timeout: 60_000,
        });
        expect(dom).toContain('<polyline');
        expect(dom).not.toContain('parsererror');
        const png = join(dir, 'growth.png');
        execFileSync(chromium, [...flags, `--screenshot=${png}`, '--window-size=760,440', `file://${file}`], {
          stdio: 'ignore',
          timeout: 60_000,
        });
        expect(readFileSync(png).subarray(1, 4).toString()).toBe('PNG');
        expect(statSync(png).size).toBeGreaterThan(5000);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    120_000,
  );
});

/** Every element opened is closed, in order (a check of well-formedness that needs no parser). */
function isBalanced(xml: string): boolean {
  const stack: string[] = [];
  const body = xml.replace(/^<\?xml[^>]*\?>/, '');
  for (const match of body.matchAll(/<(\/?)([a-zA-Z][\w:-]*)([^>]*?)(\/?)>/g)) {
    const [, closing, name, , selfClosing] = match;
    if (selfClosing === '/') continue;
    if (closing === '/') {
      if (stack.pop() !== name) return false;
    } else stack.push(name as string);
  }
  return stack.length === 0 && !/&(?!amp;|lt;|gt;|quot;|apos;)/.test(body);
}
