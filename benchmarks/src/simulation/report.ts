/**
 * Renders the simulation's results: markdown tables for docs/adaptive.md and
 * an SVG plot of the bulkhead comparison (goodput and p99 latency per second).
 */
import type { BulkheadResult, HedgingRow, OutageResult, PhaseRow, Series } from './scenarios.js';

/** Everything one run of the simulation produced. */
export interface SimulationResults {
  /** `'short'` or `'full'`. */
  mode: string;
  /** Fixed vs adaptive bulkhead. */
  bulkheads: BulkheadResult;
  /** Circuit breaker vs adaptive throttle. */
  outage: OutageResult;
  /** Hedging. */
  hedging: HedgingRow[];
}

const ms = (value: number): string => (Number.isNaN(value) ? '–' : `${Math.round(value)}`);
const pct = (value: number): string => `${(value * 100).toFixed(value > 0 && value < 0.01 ? 1 : 0)} %`;

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

function byPolicy(rows: readonly PhaseRow[]): Map<string, PhaseRow[]> {
  const map = new Map<string, PhaseRow[]>();
  for (const row of rows) map.set(row.policy, [...(map.get(row.policy) ?? []), row]);
  return map;
}

/** The markdown of every table, in the order of docs/adaptive.md. */
export function renderTables(results: SimulationResults): string {
  const parts: string[] = [];
  const { bulkheads, outage, hedging } = results;
  const phases = bulkheads.phases.map((p) => p.label);
  const policies = byPolicy(bulkheads.rows);
  parts.push('#### Goodput (successful calls per second) by offered load\n');
  parts.push(
    table(
      ['policy', ...phases],
      [...policies].map(([policy, rows]) => [policy, ...rows.map((r) => `${Math.round(r.goodput)}`)]),
    ),
  );
  parts.push('\n#### p99 latency of successful calls (ms) by offered load\n');
  parts.push(
    table(
      ['policy', ...phases],
      [...policies].map(([policy, rows]) => [policy, ...rows.map((r) => ms(r.p99))]),
    ),
  );
  parts.push('\n#### Share of calls rejected at once (`BulkheadFullError`)\n');
  parts.push(
    table(
      ['policy', ...phases],
      [...policies].map(([policy, rows]) => [policy, ...rows.map((r) => pct(r.rejectedRate))]),
    ),
  );
  const outagePolicies = byPolicy(outage.rows);
  const outagePhases = [...(outagePolicies.values().next().value ?? [])].map((r) => r.phase);
  parts.push('\n#### Partial outage: requests sent to the dependency / successful calls, per phase\n');
  parts.push(
    table(
      ['policy', ...outagePhases, 'time to recover'],
      [...outagePolicies].map(([policy, rows]) => {
        const recovery = outage.recovery.find((r) => r.policy === policy)?.ms ?? Number.NaN;
        return [
          policy,
          ...rows.map((r) => `${r.sent} / ${Math.round(r.successRate * r.calls)}`),
          Number.isNaN(recovery) ? 'not within the phase' : `${(recovery / 1000).toFixed(1)} s`,
        ];
      }),
    ),
  );
  parts.push('\n#### Long latency tail: latency of the calls (ms) and extra load on the dependency\n');
  parts.push(
    table(
      ['policy', 'p50', 'p90', 'p99', 'requests per call', 'extra load'],
      hedging.map((r) => [r.policy, ms(r.p50), ms(r.p90), ms(r.p99), (r.sent / r.calls).toFixed(3), pct(r.extraLoad)]),
    ),
  );
  return parts.join('\n');
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd'];

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** One panel: a line per series over the seconds of the run. */
function panel(
  title: string,
  series: readonly Series[],
  pick: (s: Series) => number[],
  top: number,
  yMax: number,
  unit: string,
): string {
  const left = 60;
  const width = 640;
  const height = 180;
  const seconds = Math.max(...series.map((s) => pick(s).length));
  const x = (i: number): number => left + (i / Math.max(1, seconds - 1)) * width;
  const y = (v: number): number => top + height - (Math.min(v, yMax) / yMax) * height;
  const out: string[] = [];
  out.push(`<text x="${left}" y="${top - 8}" font-size="13" font-weight="bold">${escapeXml(title)}</text>`);
  out.push(`<rect x="${left}" y="${top}" width="${width}" height="${height}" fill="none" stroke="#999"/>`);
  for (let k = 0; k <= 4; k++) {
    const value = (yMax * k) / 4;
    out.push(
      `<text x="${left - 6}" y="${y(value) + 4}" font-size="10" text-anchor="end">${Math.round(value)}${unit}</text>`,
    );
    if (k > 0 && k < 4)
      out.push(`<line x1="${left}" x2="${left + width}" y1="${y(value)}" y2="${y(value)}" stroke="#eee"/>`);
  }
  series.forEach((s, index) => {
    const points = pick(s)
      .map((v, i) => (Number.isNaN(v) ? null : `${x(i).toFixed(1)},${y(v).toFixed(1)}`))
      .filter((p): p is string => p !== null)
      .join(' ');
    out.push(`<polyline fill="none" stroke="${COLORS[index % COLORS.length]}" stroke-width="1.5" points="${points}"/>`);
  });
  return out.join('\n');
}

/** The SVG of the bulkhead comparison: goodput and p99 latency per second, one line per policy. */
export function renderBulkheadSvg(result: BulkheadResult): string {
  const series = result.series;
  const maxGoodput = Math.max(...series.flatMap((s) => s.goodput));
  const maxP99 = Math.max(...series.flatMap((s) => s.p99.filter((v) => !Number.isNaN(v))));
  const roundUp = (v: number): number => {
    const step = 10 ** Math.floor(Math.log10(Math.max(v, 1)));
    return Math.ceil(v / step) * step;
  };
  const seconds = series[0]?.goodput.length ?? 0;
  const loads = result.phases.map((p) => p.label.split(' ')[0]).join(', ');
  const legend = series
    .map(
      (s, i) =>
        `<rect x="${60 + (i % 2) * 330}" y="${474 + Math.floor(i / 2) * 16}" width="12" height="3" fill="${COLORS[i % COLORS.length]}"/>` +
        `<text x="${76 + (i % 2) * 330}" y="${479 + Math.floor(i / 2) * 16}" font-size="11">${escapeXml(s.policy)}</text>`,
    )
    .join('\n');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="760" height="520" font-family="sans-serif" role="img">`,
    '<title>Goodput and p99 latency per second of fixed and adaptive bulkheads as the load ramps past capacity</title>',
    `<rect width="760" height="520" fill="white"/>`,
    panel('Goodput (successful calls/s)', series, (s) => s.goodput, 30, roundUp(maxGoodput), ''),
    panel('p99 latency of successful calls', series, (s) => s.p99, 260, roundUp(maxP99), ' ms'),
    `<text x="60" y="458" font-size="11">${seconds} s of simulated time; offered load per phase (× capacity): ${escapeXml(loads)}</text>`,
    legend,
    '</svg>',
    '',
  ].join('\n');
}

/** Replaces the text between `<!-- simulation:start -->` and `<!-- simulation:end -->` in `doc`. */
export function replaceRegion(doc: string, content: string): string {
  const start = '<!-- simulation:start -->';
  const end = '<!-- simulation:end -->';
  const from = doc.indexOf(start);
  const to = doc.indexOf(end);
  if (from === -1 || to === -1 || to < from) throw new Error('docs/adaptive.md has no simulation region');
  return `${doc.slice(0, from + start.length)}\n${content}\n${doc.slice(to)}`;
}
