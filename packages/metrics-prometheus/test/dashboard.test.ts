import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { METRIC_SUFFIXES } from '../src/definitions.js';

// Checks of the dashboard that need no Prometheus (test/prometheus.test.ts runs its queries on a real one).

interface Target {
  expr: string;
  legendFormat: string;
  datasource: { uid: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  description: string;
  targets: Target[];
  gridPos: { x: number; y: number; w: number; h: number };
}
const dashboard = JSON.parse(readFileSync(new URL('../dashboards/resilience.json', import.meta.url), 'utf8')) as {
  uid: string;
  panels: Panel[];
  templating: { list: { name: string; type: string; multi?: boolean; includeAll?: boolean; allValue?: string }[] };
};

describe('dashboards/resilience.json', () => {
  it('has a panel for each thing the issue asks for', () => {
    expect(dashboard.panels.map((p) => [p.type, p.title])).toEqual([
      ['state-timeline', 'Circuit breaker state'],
      ['timeseries', 'Circuit breaker calls by outcome'],
      ['timeseries', 'Retry attempts'],
      ['timeseries', 'Rate-limit rejections'],
      ['timeseries', 'Bulkhead saturation'],
      ['timeseries', 'Timeouts'],
      ['timeseries', 'Call duration p50 / p99'],
      ['timeseries', 'Adaptive bulkhead limit'],
    ]);
    for (const panel of dashboard.panels) expect(panel.description.length, panel.title).toBeGreaterThan(40);
    expect(new Set(dashboard.panels.map((p) => p.id)).size).toBe(dashboard.panels.length);
  });

  it('has a multi-value name variable with All, and a data source variable every query uses', () => {
    const name = dashboard.templating.list.find((v) => v.name === 'name');
    expect(name).toMatchObject({ type: 'query', multi: true, includeAll: true, allValue: '.*' });
    expect(dashboard.templating.list.find((v) => v.name === 'datasource')).toMatchObject({ type: 'datasource' });
    for (const target of dashboard.panels.flatMap((p) => p.targets)) {
      expect(target.datasource.uid).toBe(`\${datasource}`);
      expect(target.expr).toContain('name=~"$name"');
    }
  });

  it('names only metrics the recorder exports', () => {
    const known = new Set(
      METRIC_SUFFIXES.flatMap((s) =>
        s.endsWith('_seconds')
          ? [`resilience_${s}_bucket`, `resilience_${s}_sum`, `resilience_${s}_count`]
          : [`resilience_${s}`],
      ),
    );
    const used = dashboard.panels.flatMap((p) => p.targets.flatMap((t) => t.expr.match(/\bresilience_\w+/g) ?? []));
    expect(used.length).toBeGreaterThan(8);
    expect(used.filter((m) => !known.has(m))).toEqual([]);
  });

  it('lays the panels out without overlaps within 24 columns', () => {
    const cells = new Set<string>();
    for (const { gridPos: g, title } of dashboard.panels) {
      expect(g.x + g.w, title).toBeLessThanOrEqual(24);
      for (let x = g.x; x < g.x + g.w; x++) {
        for (let y = g.y; y < g.y + g.h; y++) {
          expect(cells.has(`${x},${y}`), `${title} overlaps at ${x},${y}`).toBe(false);
          cells.add(`${x},${y}`);
        }
      }
    }
  });
});
