import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CHART_IDS, renderHtmlReport } from '../src/html-report.js';
import { quantile, type SeriesData, SeriesRecorder } from '../src/series.js';
import { buildTimeline, PHASE_NAMES } from '../src/timeline.js';
import { emptyTally, OUTCOMES, type Outcome } from '../src/traffic.js';
import { browserAvailable, openInChromium } from './browser.js';

const scratch = mkdtempSync(join(tmpdir(), 'resilience-report-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Ten seconds with every outcome, a breaker that opens and closes, a full bulkhead, and one silent second. */
function syntheticSeries(): SeriesData {
  const timeline = buildTimeline(PHASE_NAMES, 10_000);
  const series = new SeriesRecorder(10_000, 'closed');
  const mix: Record<number, Partial<Record<Outcome, number>>> = {
    0: { ok: 20 },
    1: { ok: 18, failed: 4 },
    2: { failedFast: 20, failed: 3 },
    3: { failedFast: 15, timedOut: 5 },
    4: { failedFast: 10, timedOut: 8 },
    5: {}, // nothing arrived: no latency that second
    6: { ok: 22 },
    7: { ok: 30, rateLimited: 25, shed: 10 },
    8: { ok: 35, rateLimited: 40, shed: 30 },
    9: { ok: 28, rateLimited: 35, shed: 22 },
  };
  for (const [second, counts] of Object.entries(mix)) {
    for (const outcome of OUTCOMES) {
      for (let i = 0; i < (counts[outcome] ?? 0); i++) {
        series.answer(Number(second) * 1000 + 10 + i, outcome, 5 + i * 7);
      }
    }
  }
  for (let ms = 0; ms < 10_000; ms += 50) {
    const spike = ms >= 7000;
    series.load(ms, spike ? 8 : (ms / 1000) % 3, spike ? 8 : 0);
  }
  series.transition(2500, 'open');
  series.transition(4000, 'half-open');
  series.transition(4200, 'open');
  series.transition(5600, 'half-open');
  series.transition(6400, 'closed');
  const data = series.data(timeline, 8, 8);
  // A hostile story: the embedded JSON must not end its script element.
  return {
    ...data,
    phases: data.phases.map((p, i) => (i === 0 ? { ...p, story: 'all is well </script><script>boom()</script>' } : p)),
  };
}

describe('the per-second series', () => {
  it('takes percentiles by nearest rank', () => {
    expect(quantile([], 0.5)).toBeNull();
    expect(quantile([7], 0.99)).toBe(7);
    const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(quantile(hundred, 0.5)).toBe(50);
    expect(quantile(hundred, 0.9)).toBe(90);
    expect(quantile(hundred, 0.99)).toBe(99);
  });

  it('buckets answers by the second they arrived, clamping what falls outside the run', () => {
    const series = new SeriesRecorder(3000, 'closed');
    series.answer(0, 'ok', 10);
    series.answer(999, 'ok', 30);
    series.answer(1000, 'shed', 1);
    series.answer(5000, 'failed', 2); // after the end: the last second
    series.answer(-5, 'ok', 20); // before the start: the first
    series.answer(Number.NaN, 'timedOut', 500);
    series.load(1500, 3, 1);
    series.load(1600, 2, 4);
    const data = series.data(buildTimeline(['healthy'], 3000), 8, 8);
    expect(data.seconds).toBe(3);
    expect(data.outcomes.ok).toEqual([3, 0, 0]);
    expect(data.outcomes.shed).toEqual([0, 1, 0]);
    expect(data.outcomes.failed).toEqual([0, 0, 1]);
    expect(data.outcomes.timedOut).toEqual([0, 0, 1]);
    expect(data.latency.p50).toEqual([20, 1, 2]);
    expect(data.latency.p99).toEqual([30, 1, 500]);
    expect(data.bulkhead.active).toEqual([0, 3, 0]);
    expect(data.bulkhead.queued).toEqual([0, 4, 0]);
    expect(data.breaker).toEqual([{ startS: 0, endS: 3, state: 'closed' }]);
  });

  it('turns transitions into segments that cover the run', () => {
    const series = new SeriesRecorder(4000, 'closed');
    series.transition(1000, 'open');
    series.transition(1000, 'half-open'); // no time in open: no segment
    series.transition(2500, 'closed');
    series.transition(9000, 'open'); // past the end
    const data = series.data(buildTimeline(['failing'], 4000), 8, 8);
    expect(data.breaker).toEqual([
      { startS: 0, endS: 1, state: 'closed' },
      { startS: 1, endS: 2.5, state: 'half-open' },
      { startS: 2.5, endS: 4, state: 'closed' },
    ]);
  });

  it('writes one self-contained page: Chart.js and the data inlined, nothing fetched', () => {
    const html = renderHtmlReport({ series: syntheticSeries(), generatedAt: 'now', phaseTallies: [], checks: [] });
    expect(html).toContain('Chart.js v4');
    expect(html).not.toMatch(/<script[^>]+src=/);
    expect(html).not.toMatch(/<link[^>]+href=/);
    expect(html.match(/<\/script>/g)).toHaveLength(3);
    for (const id of CHART_IDS) expect(html).toContain(`<canvas id="${id}"`);
  });
});

/** What the page reports about one chart. */
interface DrawnChart {
  readonly id: string;
  readonly found: boolean;
  readonly datasets: ReadonlyArray<{
    label: string;
    length: number;
    elements: number;
    points: number;
    inked: number;
    inColor: number;
  }>;
  readonly band: ReadonlyArray<{ state: string; seen: string }>;
}

describe.runIf(browserAvailable())('the HTML report in headless chromium', () => {
  it('loads with no console errors, offline, and every chart draws its data', { timeout: 60_000 }, async () => {
    const series = syntheticSeries();
    const tally = { ...emptyTally(), ok: 120, shed: 62 };
    const file = join(scratch, 'report.html');
    writeFileSync(
      file,
      renderHtmlReport({
        series,
        generatedAt: '2026-01-01T00:00:00.000Z',
        phaseTallies: [{ name: 'spike', counts: tally }],
        checks: [
          { description: 'the bulkhead shed <load>', passed: true, detail: '62 shed' },
          { description: 'a check that failed', passed: false, detail: '0 of 1' },
        ],
      }),
    );
    const opened = await openInChromium(file);
    try {
      const { page } = opened;
      expect(opened.problems).toEqual([]);
      expect(opened.requests.every((url) => url.startsWith('file://'))).toBe(true);
      expect(await page.evaluate(() => document.body.dataset.drawn)).toBe(String(CHART_IDS.length));
      expect(await page.locator('li', { hasText: 'the bulkhead shed <load>' }).count()).toBe(1);
      expect(await page.locator('ol li').first().textContent()).toContain(
        'all is well </script><script>boom()</script>',
      );

      const charts: DrawnChart[] = await page.evaluate((ids): DrawnChart[] => {
        type Rgb = [number, number, number];
        const hex = (color: string): Rgb => {
          const n = Number.parseInt(color.slice(1, 7), 16);
          return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
        };
        const ChartJs = (window as unknown as { Chart: { getChart(c: HTMLCanvasElement): unknown } }).Chart;
        return ids.map((id) => {
          const canvas = document.getElementById(id) as HTMLCanvasElement;
          // biome-ignore lint/suspicious/noExplicitAny: Chart.js's instance, read in the page
          const chart = ChartJs.getChart(canvas) as any;
          if (!chart) return { id, found: false, datasets: [], band: [] };
          const ratio = chart.currentDevicePixelRatio as number;
          const pixels = (canvas.getContext('2d') as CanvasRenderingContext2D).getImageData(
            0,
            0,
            canvas.width,
            canvas.height,
          ).data;
          const at = (x: number, y: number): [number, number, number, number] => {
            const px = Math.min(canvas.width - 1, Math.max(0, Math.round(x * ratio)));
            const py = Math.min(canvas.height - 1, Math.max(0, Math.round(y * ratio)));
            const i = (py * canvas.width + px) * 4;
            return [pixels[i] ?? 0, pixels[i + 1] ?? 0, pixels[i + 2] ?? 0, pixels[i + 3] ?? 0];
          };
          const around = (x: number, y: number, test: (p: [number, number, number, number]) => boolean): boolean => {
            for (let dx = -2; dx <= 2; dx++) for (let dy = -2; dy <= 2; dy++) if (test(at(x + dx, y + dy))) return true;
            return false;
          };
          const inked = (p: [number, number, number, number]) => p[3] > 0 && !(p[0] > 240 && p[1] > 240 && p[2] > 240);
          const datasets = chart.data.datasets.map(
            (ds: { label: string; data: Array<{ y: number | null }>; borderColor: string }, i: number) => {
              const meta = chart.getDatasetMeta(i);
              const color = hex(ds.borderColor);
              const drawn = meta.data.filter((_el: unknown, j: number) => ds.data[j]?.y !== null);
              const close = (p: [number, number, number, number]) =>
                p[3] > 200 && Math.abs(p[0] - color[0]) + Math.abs(p[1] - color[1]) + Math.abs(p[2] - color[2]) <= 60;
              return {
                label: ds.label,
                length: ds.data.length,
                elements: meta.data.length,
                points: drawn.length,
                inked: drawn.filter((el: { x: number; y: number }) => around(el.x, el.y, inked)).length,
                inColor: drawn.filter((el: { x: number; y: number }) => around(el.x, el.y, close)).length,
              };
            },
          );
          // The breaker band: the colour under the middle of each segment, near the bottom of the chart area.
          const segments = JSON.parse((document.getElementById('report-data') as HTMLElement).textContent ?? '{}')
            .series.breaker as Array<{ startS: number; endS: number; state: string }>;
          const band =
            id !== 'breaker'
              ? []
              : segments.map((seg) => {
                  const x = chart.scales.x.getPixelForValue((seg.startS + seg.endS) / 2);
                  const [r, g, b] = at(x, chart.chartArea.bottom - 3);
                  return { state: seg.state, seen: g > r ? 'closed' : g - b > 15 ? 'half-open' : 'open' };
                });
          return { id, found: true, datasets, band };
        });
      }, CHART_IDS);

      const lengths = series.seconds;
      for (const chart of charts) {
        expect(chart.found, chart.id).toBe(true);
        expect(chart.datasets.length, chart.id).toBeGreaterThan(0);
        for (const ds of chart.datasets) {
          const what = `${chart.id} / ${ds.label}`;
          expect(ds.elements, what).toBe(ds.length);
          expect(ds.points, what).toBeGreaterThan(0);
          expect(ds.inColor, what).toBeGreaterThan(0);
          if (ds.label !== 'maxConcurrent') expect(ds.inked / ds.points, what).toBeGreaterThanOrEqual(0.8);
        }
      }
      const byId = Object.fromEntries(charts.map((c) => [c.id, c]));
      expect(byId.outcomes?.datasets.map((d) => d.length)).toEqual(OUTCOMES.map(() => lengths));
      expect(byId.latency?.datasets.map((d) => [d.length, d.points])).toEqual([
        [lengths, lengths - 1],
        [lengths, lengths - 1],
        [lengths, lengths - 1],
      ]);
      expect(byId.bulkhead?.datasets.slice(0, 3).map((d) => d.length)).toEqual([lengths, lengths, lengths]);
      expect(byId['rate-limit']?.datasets.map((d) => d.length)).toEqual([lengths, lengths]);
      expect(byId.breaker?.datasets[0]?.length).toBe(series.breaker.length * 2);
      expect(byId.breaker?.band).toEqual(series.breaker.map((seg) => ({ state: seg.state, seen: seg.state })));
    } finally {
      await opened.close();
    }
  });
});
