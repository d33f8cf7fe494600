import { formatBytes, formatNs, formatRatio, outcomeNote } from './format.js';
import { OURS, rowLabel, table, targetRows } from './markdown.js';
import { type BenchReport, costOf, ratioOf, type ScenarioReport, type SubjectReport } from './model.js';

/** Markers of the README region that the bench run rewrites. */
export const README_START = '<!-- benchmarks:start -->';
export const README_END = '<!-- benchmarks:end -->';

function headline(scenario: ScenarioReport, subject: SubjectReport): string {
  const note = outcomeNote(subject.outcome);
  if (note !== undefined) return note.startsWith('not yet') ? 'not yet available' : 'failed';
  const cost = costOf(scenario, subject.id);
  if (cost === undefined) return '—';
  switch (scenario.kind) {
    case 'instance':
      return formatBytes(cost);
    case 'http':
      return `${cost >= 0 ? '+' : ''}${cost.toFixed(1)} µs/req`;
    default:
      return `+${formatNs(Math.max(cost, 0))}`;
  }
}

/** Our main row on the same Node as `subject` (`ours`, or `ours@node22` beside the rows run on Node 22). */
function oursBeside(scenario: ScenarioReport, subject: SubjectReport): string {
  const same = scenario.subjects.find(
    (s) => s.library.startsWith('@resilience/') && s.id.startsWith(`${OURS}@`) && s.node === subject.node,
  );
  return subject.node === undefined || same === undefined ? OURS : same.id;
}

function compactRow(scenario: ScenarioReport): string[] {
  const ours = scenario.subjects.find((s) => s.id === OURS);
  const others = scenario.subjects.filter(
    (s) => !s.library.startsWith('@resilience/') && s.id !== scenario.baselineSubject,
  );
  if (others.length === 0) {
    // Only ours measured (every pattern, or one pattern at growing sizes): each row of ours, no ratio.
    const rest = scenario.subjects.filter((s) => s.id !== OURS && s.id !== scenario.baselineSubject);
    return [
      scenario.title,
      ours === undefined ? '—' : headline(scenario, ours),
      rest.map((s) => `${rowLabel(s)}: ${headline(scenario, s)}`).join('<br>'),
    ];
  }
  return [
    scenario.title,
    ours === undefined ? '—' : headline(scenario, ours),
    others
      .map((s) => {
        const oursId = oursBeside(scenario, s);
        const ratio = ratioOf(scenario, oursId, s.id);
        const versus = oursId === OURS ? 'ours' : `ours on the same Node ${formatRatio(ratio)}`;
        const shown = oursId === OURS ? `${versus} ${formatRatio(ratio)}` : versus;
        return `${rowLabel(s)}: ${headline(scenario, s)}${ratio === undefined ? '' : ` (${shown})`}`;
      })
      .join('<br>'),
  ];
}

/** The versions of the other libraries the run measured, so the table says what it compared. */
function comparedWith(report: BenchReport): string {
  const others = Object.entries(report.versions)
    .filter(([name]) => !name.startsWith('@resilience/'))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, version]) => `${name} ${version}`);
  return `Compared with: ${others.length === 0 ? 'no other library' : others.join(', ')}.`;
}

/** The compact README table: our cost and each competitor's per scenario, then the targets. */
export function renderReadmeTable(report: BenchReport): string {
  const m = report.machine;
  return [
    `Overhead per call over a bare \`await fn()\` (heap: bytes per instance; HTTP: µs per request over Express alone), ` +
      `medians of one \`pnpm bench${report.quick ? ' --quick' : ''}\` run on ${report.date.slice(0, 10)}, ` +
      `${m.cpu} × ${m.cores}, Node ${m.node}, load average ${m.loadAverage}. Details, bytes per call and how it is measured: ` +
      '[docs/benchmarks.md](docs/benchmarks.md).',
    '',
    comparedWith(report),
    '',
    table(['scenario', '@resilience', 'others (ours ÷ theirs)'], report.scenarios.map(compactRow)),
    '',
    table(['scenario', 'target', 'measured', 'result'], targetRows(report)),
  ].join('\n');
}

/**
 * Replaces what lies between the markers with `content`.
 *
 * @throws Error when either marker is missing or they are out of order.
 */
export function replaceRegion(readme: string, content: string): string {
  const start = readme.indexOf(README_START);
  const end = readme.indexOf(README_END);
  if (start === -1 || end === -1 || end < start) {
    throw new Error(`README: expected ${README_START} … ${README_END}`);
  }
  return `${readme.slice(0, start + README_START.length)}\n${content}\n${readme.slice(end)}`;
}
