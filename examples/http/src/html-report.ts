import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { SeriesData } from './series.js';
import { OUTCOME_LABELS, OUTCOMES, type Outcome } from './traffic.js';

/** What the report shows besides the series: the title line, the per-phase table and the checks. */
export interface ReportPage {
  /** The series, second by second. */
  readonly series: SeriesData;
  /** When the run ended (ISO 8601). */
  readonly generatedAt: string;
  /** Answers per phase and outcome, as in the printed summary. */
  readonly phaseTallies: ReadonlyArray<{ name: string; counts: Readonly<Record<Outcome, number>> }>;
  /** The checks of the run and whether each passed. */
  readonly checks: ReadonlyArray<{ description: string; passed: boolean; detail: string }>;
}

/** The ids of the report's charts, in page order (the browser test finds them by these). */
export const CHART_IDS = ['outcomes', 'breaker', 'bulkhead', 'rate-limit', 'latency'] as const;

/** The colour of each outcome in the charts. */
export const OUTCOME_COLORS: Readonly<Record<Outcome, string>> = {
  ok: '#2e7d32',
  failedFast: '#ef6c00',
  rateLimited: '#8e24aa',
  timedOut: '#c62828',
  shed: '#1565c0',
  failed: '#37474f',
};

/** Chart.js's browser build, read from the installed package (its `dist` folder holds it beside the entry point). */
function chartJsSource(): string {
  const entry = createRequire(import.meta.url).resolve('chart.js');
  return readFileSync(join(dirname(entry), 'chart.umd.min.js'), 'utf8');
}

/** Text safe inside a `<script>` element: no `</script` can end it early. */
function scriptSafe(text: string): string {
  return text.replace(/<\/script/gi, '<\\/script');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The page's own script: reads the embedded data and draws one Chart.js
 * chart per `CHART_IDS` entry, with the phases marked on every chart and the
 * breaker's state as a coloured band. Plain browser JavaScript; animations off
 * so every chart is drawn by the time the `load` event has run.
 */
const PAGE_SCRIPT = `
'use strict';
const data = JSON.parse(document.getElementById('report-data').textContent);
const s = data.series;
const COLORS = data.colors;
const STATE_FILL = { closed: 'rgba(46,125,50,0.18)', 'half-open': 'rgba(249,168,37,0.35)', open: 'rgba(198,40,40,0.28)' };
const STATE_SOLID = { closed: '#43a047', 'half-open': '#f9a825', open: '#e53935' };
const LEVEL = { closed: 0, 'half-open': 1, open: 2 };
const perSecond = (values) => values.map((y, i) => ({ x: i + 0.5, y }));
const xScale = { type: 'linear', min: 0, max: s.seconds, title: { display: true, text: 'seconds since start' }, ticks: { stepSize: 1 } };

Chart.defaults.animation = false;
Chart.defaults.maintainAspectRatio = false;
Chart.defaults.font.family = 'system-ui, sans-serif';

// Phases: a dashed line where each begins, its name on top, every other one shaded.
const phasesPlugin = {
  id: 'phases',
  beforeDatasetsDraw(chart) {
    const { ctx, chartArea: a, scales: { x } } = chart;
    ctx.save();
    s.phases.forEach((p, i) => {
      const left = x.getPixelForValue(p.startS);
      const right = x.getPixelForValue(p.endS);
      if (i % 2 === 1) {
        ctx.fillStyle = 'rgba(0,0,0,0.045)';
        ctx.fillRect(left, a.top, right - left, a.bottom - a.top);
      }
      if (i > 0) {
        ctx.strokeStyle = 'rgba(0,0,0,0.4)';
        ctx.setLineDash([4, 4]);
        ctx.beginPath();
        ctx.moveTo(left, a.top);
        ctx.lineTo(left, a.bottom);
        ctx.stroke();
        ctx.setLineDash([]);
      }
      ctx.fillStyle = '#444';
      ctx.font = '11px system-ui, sans-serif';
      ctx.fillText(p.name, left + 4, a.top + 12);
    });
    ctx.restore();
  },
};

// The breaker's state as a band: the whole chart area on the breaker chart, a strip along the top elsewhere.
function breakerBand(full) {
  return {
    id: full ? 'breakerBandFull' : 'breakerBandStrip',
    beforeDatasetsDraw(chart) {
      const { ctx, chartArea: a, scales: { x } } = chart;
      ctx.save();
      for (const seg of s.breaker) {
        const left = x.getPixelForValue(seg.startS);
        const right = x.getPixelForValue(seg.endS);
        ctx.fillStyle = full ? STATE_FILL[seg.state] : STATE_SOLID[seg.state];
        if (full) ctx.fillRect(left, a.top, right - left, a.bottom - a.top);
        else ctx.fillRect(left, a.top - 8, right - left, 5);
      }
      ctx.restore();
    },
  };
}

function chart(id, config) {
  const canvas = document.getElementById(id);
  return new Chart(canvas, config);
}

const outcomeOrder = data.outcomeOrder;
const charts = {};

charts.outcomes = chart('outcomes', {
  type: 'line',
  data: {
    datasets: outcomeOrder.map((o, i) => ({
      label: data.labels[o],
      data: perSecond(s.outcomes[o]),
      borderColor: COLORS[o],
      backgroundColor: COLORS[o] + '99',
      fill: i === 0 ? 'origin' : '-1',
      pointRadius: 0,
      borderWidth: 2,
    })),
  },
  options: {
    layout: { padding: { top: 10 } },
    scales: { x: xScale, y: { stacked: true, beginAtZero: true, title: { display: true, text: 'answers per second' } } },
    plugins: { title: { display: true, text: 'Answers per second, by outcome (band on top: breaker state)' } },
  },
  plugins: [phasesPlugin, breakerBand(false)],
});

// A step function: each segment's level from its start to its end (a vertical line where the state changes).
const breakerPoints = s.breaker.flatMap((seg) => [
  { x: seg.startS, y: LEVEL[seg.state] },
  { x: seg.endS, y: LEVEL[seg.state] },
]);
charts.breaker = chart('breaker', {
  type: 'line',
  data: {
    datasets: [
      { label: 'breaker state', data: breakerPoints, borderColor: '#212121', borderWidth: 2, pointRadius: 0 },
    ],
  },
  options: {
    scales: {
      x: xScale,
      y: {
        min: -0.3,
        max: 2.3,
        afterBuildTicks: (axis) => {
          axis.ticks = [0, 1, 2].map((value) => ({ value }));
        },
        ticks: { callback: (v) => ['closed', 'half-open', 'open'][v] ?? '' },
      },
    },
    plugins: { title: { display: true, text: 'Circuit breaker state' }, legend: { display: false } },
  },
  plugins: [breakerBand(true), phasesPlugin],
});

charts.bulkhead = chart('bulkhead', {
  type: 'line',
  data: {
    datasets: [
      { label: 'running (peak)', data: perSecond(s.bulkhead.active), borderColor: '#00897b', borderWidth: 2, pointRadius: 0, stepped: 'middle' },
      { label: 'queued (peak)', data: perSecond(s.bulkhead.queued), borderColor: '#fb8c00', borderWidth: 2, pointRadius: 0, stepped: 'middle' },
      { label: 'shed per second', data: perSecond(s.outcomes.shed), borderColor: COLORS.shed, backgroundColor: COLORS.shed + '55', fill: 'origin', borderWidth: 2, pointRadius: 0, yAxisID: 'y1' },
      { label: 'maxConcurrent', data: [{ x: 0, y: s.bulkhead.maxConcurrent }, { x: s.seconds, y: s.bulkhead.maxConcurrent }], borderColor: '#9e9e9e', borderDash: [6, 4], borderWidth: 1, pointRadius: 0 },
    ],
  },
  options: {
    scales: {
      x: xScale,
      y: { beginAtZero: true, suggestedMax: s.bulkhead.maxConcurrent + 1, title: { display: true, text: 'requests in the bulkhead' } },
      y1: { position: 'right', beginAtZero: true, grid: { drawOnChartArea: false }, title: { display: true, text: 'shed per second' } },
    },
    plugins: { title: { display: true, text: 'Bulkhead load (' + s.bulkhead.maxConcurrent + ' slots, queue of ' + s.bulkhead.maxQueue + ') and load shed' } },
  },
  plugins: [phasesPlugin],
});

const total = s.outcomes.ok.map((_, i) => outcomeOrder.reduce((sum, o) => sum + s.outcomes[o][i], 0));
charts['rate-limit'] = chart('rate-limit', {
  type: 'line',
  data: {
    datasets: [
      { label: 'rate limited (429)', data: perSecond(s.outcomes.rateLimited), borderColor: COLORS.rateLimited, backgroundColor: COLORS.rateLimited + '66', fill: 'origin', borderWidth: 2, pointRadius: 0 },
      { label: 'all answers', data: perSecond(total), borderColor: '#546e7a', borderWidth: 1.5, borderDash: [5, 3], pointRadius: 0 },
    ],
  },
  options: {
    scales: { x: xScale, y: { beginAtZero: true, title: { display: true, text: 'per second' } } },
    plugins: { title: { display: true, text: 'Rate-limit rejections' } },
  },
  plugins: [phasesPlugin],
});

charts.latency = chart('latency', {
  type: 'line',
  data: {
    datasets: [
      { label: 'p50', data: perSecond(s.latency.p50), borderColor: '#1e88e5', borderWidth: 2, pointRadius: 2 },
      { label: 'p90', data: perSecond(s.latency.p90), borderColor: '#fdd835', borderWidth: 2, pointRadius: 2 },
      { label: 'p99', data: perSecond(s.latency.p99), borderColor: '#d81b60', borderWidth: 2, pointRadius: 2 },
    ],
  },
  options: {
    spanGaps: false,
    scales: { x: xScale, y: { beginAtZero: true, title: { display: true, text: 'ms, answers arriving that second' } } },
    plugins: { title: { display: true, text: 'Latency percentiles' } },
  },
  plugins: [phasesPlugin],
});

window.reportCharts = charts;
document.body.dataset.drawn = String(Object.keys(charts).length);
`;

const STYLE = `
body { font-family: system-ui, sans-serif; margin: 24px auto; max-width: 1100px; color: #212121; padding: 0 16px; }
h1 { font-size: 22px; margin-bottom: 4px; }
.meta { color: #616161; margin-top: 0; }
.chart { position: relative; height: 280px; margin: 18px 0 30px; }
.chart.small { height: 170px; }
table { border-collapse: collapse; font-size: 14px; margin: 8px 0 16px; }
th, td { border-bottom: 1px solid #e0e0e0; padding: 4px 10px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.pass { color: #2e7d32; font-weight: 600; }
.fail { color: #c62828; font-weight: 600; }
`;

/**
 * The demo's report as one self-contained HTML page: the data and Chart.js
 * inlined, no request leaves the file, so it opens offline.
 */
export function renderHtmlReport(page: ReportPage, chartJs: string = chartJsSource()): string {
  const { series } = page;
  const total = page.phaseTallies.reduce((sum, p) => sum + OUTCOMES.reduce((s, o) => s + p.counts[o], 0), 0);
  const embedded = {
    series,
    colors: OUTCOME_COLORS,
    labels: OUTCOME_LABELS,
    outcomeOrder: OUTCOMES,
  };
  const rows = page.phaseTallies
    .map((p) => `<tr><td>${escapeHtml(p.name)}</td>${OUTCOMES.map((o) => `<td>${p.counts[o]}</td>`).join('')}</tr>`)
    .join('\n');
  const checks = page.checks
    .map(
      (c) =>
        `<li><span class="${c.passed ? 'pass' : 'fail'}">${c.passed ? 'PASS' : 'FAIL'}</span> ${escapeHtml(c.description)}: ${escapeHtml(c.detail)}</li>`,
    )
    .join('\n');
  const phases = series.phases
    .map(
      (p) =>
        `<li><b>${escapeHtml(p.name)}</b> (${p.startS.toFixed(1)}–${p.endS.toFixed(1)} s): ${escapeHtml(p.story)}</li>`,
    )
    .join('\n');
  const canvas = (id: string, small = false): string =>
    `<div class="chart${small ? ' small' : ''}"><canvas id="${id}" role="img" aria-label="${id} chart"></canvas></div>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>@resilience demo report</title>
<style>${STYLE}</style>
</head>
<body>
<h1>@resilience demo: a gateway that survives its upstream</h1>
<p class="meta">${total} requests over ${series.seconds} s, run ended ${escapeHtml(page.generatedAt)}.</p>
<ol>
${phases}
</ol>
${canvas('outcomes')}
${canvas('breaker', true)}
${canvas('bulkhead')}
${canvas('rate-limit')}
${canvas('latency')}
<h2>Per phase</h2>
<table>
<thead><tr><th>phase</th>${OUTCOMES.map((o) => `<th>${escapeHtml(OUTCOME_LABELS[o])}</th>`).join('')}</tr></thead>
<tbody>
${rows}
</tbody>
</table>
<h2>Checks</h2>
<ul>
${checks}
</ul>
<script id="report-data" type="application/json">${JSON.stringify(embedded).replace(/</g, '\\u003c')}</script>
<script>${scriptSafe(chartJs)}</script>
<script>${scriptSafe(PAGE_SCRIPT)}</script>
</body>
</html>
`;
}
