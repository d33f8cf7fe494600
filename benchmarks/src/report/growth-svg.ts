import { formatNs } from './format.js';
import { type BenchReport, costOf, type ScenarioReport } from './model.js';

/** Where the growth plot is written, next to `docs/benchmarks.md`. */
export const GROWTH_SVG = 'docs/benchmarks-growth.svg';

/** One line of the plot: a growth scenario's measured points, smallest work first. */
export interface GrowthSeries {
  /** The legend's name of the series. */
  readonly title: string;
  /** What grows. */
  readonly axis: string;
  /** Work size and overhead ns per call; a point that was not measured is left out. */
  readonly points: readonly { readonly x: number; readonly ns: number }[];
}

/** The growth series of a run, from every scenario that has a `growth` definition. */
export function growthSeries(report: BenchReport): GrowthSeries[] {
  return report.scenarios
    .filter((s): s is ScenarioReport & { growth: NonNullable<ScenarioReport['growth']> } => s.growth !== undefined)
    .map((scenario) => ({
      title: scenario.growth.legend,
      axis: scenario.growth.axis,
      points: scenario.growth.points
        .map((p) => ({ x: p.x, ns: costOf(scenario, p.subject) }))
        .filter((p): p is { x: number; ns: number } => p.ns !== undefined && Number.isFinite(p.ns))
        .map((p) => ({ x: p.x, ns: Math.max(p.ns, 0) }))
        .sort((a, b) => a.x - b.x),
    }));
}

/** Escapes text for an XML text node or attribute value. */
export function escapeXml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&apos;');
}

/** The decades a log axis spans: from the one at or below the smallest value to the one at or above the largest. */
export function decades(values: readonly number[]): { from: number; to: number } {
  const positive = values.filter((v) => v > 0 && Number.isFinite(v));
  if (positive.length === 0) return { from: 0, to: 1 };
  const from = Math.floor(Math.log10(Math.min(...positive)));
  const to = Math.max(from + 1, Math.ceil(Math.log10(Math.max(...positive))));
  return { from, to };
}

/** `1`, `1k`, `100k`, `1M`. */
export function formatCount(n: number): string {
  if (n >= 1e6 && n % 1e6 === 0) return `${n / 1e6}M`;
  if (n >= 1e3 && n % 1e3 === 0) return `${n / 1e3}k`;
  return `${n}`;
}

/** Colour-blind-safe line colours (Okabe–Ito), one per series. */
const COLOURS = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9'];

const WIDTH = 760;
const HEIGHT = 440;
const PLOT = { left: 70, right: 200, top: 50, bottom: 60 };

/**
 * Renders the growth series as a standalone SVG line chart: the work's size and
 * the overhead ns per call on log axes (decades), a line
 * and labelled points per series, a legend. A flat line is a per-call cost
 * that does not grow with the work. With no measured point it still renders,
 * saying so.
 */
export function renderGrowthSvg(series: readonly GrowthSeries[], caption: string): string {
  const measured = series.filter((s) => s.points.length > 0);
  const x = decades(measured.flatMap((s) => s.points.map((p) => p.x)));
  // Overheads under 1 ns (lost in the noise) sit on the 1 ns line.
  const y = decades([1, ...measured.flatMap((s) => s.points.map((p) => Math.max(p.ns, 1)))]);
  const plotW = WIDTH - PLOT.left - PLOT.right;
  const plotH = HEIGHT - PLOT.top - PLOT.bottom;
  const px = (value: number): number =>
    PLOT.left + ((Math.log10(Math.max(value, 10 ** x.from)) - x.from) / (x.to - x.from)) * plotW;
  const py = (ns: number): number =>
    PLOT.top + plotH - ((Math.log10(Math.max(ns, 10 ** y.from)) - y.from) / (y.to - y.from)) * plotH;
  const r = (n: number): string => n.toFixed(1);
  const out: string[] = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<title>${escapeXml('How the per-call cost grows with the work')}</title>`,
    `<rect x="0" y="0" width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    `<text x="${PLOT.left}" y="22" font-size="15" font-weight="bold">${escapeXml('Overhead per call as the work grows (flat is good)')}</text>`,
    `<text x="${PLOT.left}" y="38" fill="#555555">${escapeXml(caption)}</text>`,
  ];
  // Grid and axes: a line per decade on both.
  for (let d = y.from; d <= y.to; d++) {
    const at = py(10 ** d);
    out.push(
      `<line x1="${PLOT.left}" y1="${r(at)}" x2="${PLOT.left + plotW}" y2="${r(at)}" stroke="#e5e5e5"/>`,
      `<text x="${PLOT.left - 6}" y="${r(at + 4)}" text-anchor="end">${escapeXml(formatNs(10 ** d))}</text>`,
    );
  }
  for (let d = x.from; d <= x.to; d++) {
    const at = px(10 ** d);
    out.push(
      `<line x1="${r(at)}" y1="${PLOT.top}" x2="${r(at)}" y2="${PLOT.top + plotH}" stroke="#e5e5e5"/>`,
      `<text x="${r(at)}" y="${PLOT.top + plotH + 16}" text-anchor="middle">${escapeXml(formatCount(10 ** d))}</text>`,
    );
  }
  out.push(
    `<line x1="${PLOT.left}" y1="${PLOT.top + plotH}" x2="${PLOT.left + plotW}" y2="${PLOT.top + plotH}" stroke="#333333"/>`,
    `<line x1="${PLOT.left}" y1="${PLOT.top}" x2="${PLOT.left}" y2="${PLOT.top + plotH}" stroke="#333333"/>`,
    `<text x="${PLOT.left + plotW / 2}" y="${HEIGHT - 18}" text-anchor="middle">${escapeXml('size of the work (calls in flight, keys, queue depth, callers; log scale)')}</text>`,
    `<text x="16" y="${PLOT.top + plotH / 2}" text-anchor="middle" transform="rotate(-90 16 ${PLOT.top + plotH / 2})">${escapeXml('overhead per call (log scale)')}</text>`,
  );
  if (measured.length === 0) {
    out.push(
      `<text x="${PLOT.left + plotW / 2}" y="${PLOT.top + plotH / 2}" text-anchor="middle" fill="#555555">${escapeXml('no growth scenario was measured in this run')}</text>`,
    );
  }
  series.forEach((s, i) => {
    const colour = COLOURS[i % COLOURS.length] as string;
    const legendY = PLOT.top + 10 + i * 34;
    const legendX = PLOT.left + plotW + 16;
    out.push(
      `<line x1="${legendX}" y1="${legendY}" x2="${legendX + 20}" y2="${legendY}" stroke="${colour}" stroke-width="2.5"/>`,
      `<text x="${legendX + 26}" y="${legendY + 4}">${escapeXml(s.title)}</text>`,
      `<text x="${legendX + 26}" y="${legendY + 18}" fill="#555555">${escapeXml(
        s.points.length === 0 ? 'not measured' : `x: ${s.axis}`,
      )}</text>`,
    );
    if (s.points.length === 0) return;
    const path = s.points.map((p) => `${r(px(p.x))},${r(py(p.ns))}`).join(' ');
    out.push(`<polyline points="${path}" fill="none" stroke="${colour}" stroke-width="2.5"/>`);
    for (const p of s.points) {
      out.push(
        `<circle cx="${r(px(p.x))}" cy="${r(py(p.ns))}" r="3.5" fill="${colour}"/>`,
        // Labels of alternate series above and below their points, so series that start together stay readable.
        // A point at the right edge gets its label on its left, clear of the legend.
        px(p.x) > PLOT.left + plotW - 40
          ? `<text x="${r(px(p.x) - 5)}" y="${r(py(p.ns) + (i % 2 === 0 ? -6 : 15))}" text-anchor="end" fill="${colour}">${escapeXml(formatNs(p.ns))}</text>`
          : `<text x="${r(px(p.x) + 5)}" y="${r(py(p.ns) + (i % 2 === 0 ? -6 : 15))}" fill="${colour}">${escapeXml(formatNs(p.ns))}</text>`,
      );
    }
  });
  out.push('</svg>', '');
  return out.join('\n');
}

/** The growth plot of a run, captioned with its date, Node and load. */
export function renderGrowthPlot(report: BenchReport): string {
  const m = report.machine;
  const caption = `pnpm bench${report.quick ? ' --quick' : ''}, ${report.date.slice(0, 10)}, Node ${m.node}, ${m.cores} cores, load ${m.loadAverage}`;
  return renderGrowthSvg(growthSeries(report), caption);
}
