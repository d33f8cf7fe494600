/**
 * The two exposition formats, for a registry asked for the format it was not
 * made for: prom-client renders only its registry's own content type, and its
 * OpenMetrics rendering renames counters in place, so the other format is
 * written here from `getMetricsAsJSON()`.
 */

/** `text/plain; version=0.0.4`, the Prometheus text format (prom-client's `Registry.PROMETHEUS_CONTENT_TYPE`). */
export const PROMETHEUS_TEXT = 'text/plain; version=0.0.4; charset=utf-8';
/** OpenMetrics 1.0.0 (prom-client's `Registry.OPENMETRICS_CONTENT_TYPE`). */
export const OPENMETRICS_TEXT = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

/** One sample as `getMetricsAsJSON()` gives it. */
interface SampleJson {
  readonly value: number;
  readonly labels?: Readonly<Record<string, string | number | undefined>>;
  readonly metricName?: string;
}

/** One metric family as `getMetricsAsJSON()` gives it. */
interface FamilyJson {
  readonly name: string;
  readonly help: string;
  /** `"counter"`, `"gauge"`, … at run time (prom-client's typings call it an enum). */
  readonly type: unknown;
  readonly values?: readonly SampleJson[];
}

/** Whether an `Accept` header prefers OpenMetrics: named explicitly with a q above 0 and at least text/plain's q. */
export function prefersOpenMetrics(accept: string | undefined): boolean {
  if (accept === undefined || !/openmetrics/i.test(accept)) return false;
  let openMetrics = 0;
  let text = 0;
  for (const range of accept.split(',')) {
    const [type = '', ...params] = range.split(';');
    let q = 1;
    for (const param of params) {
      const [key = '', value = ''] = param.split('=');
      if (key.trim().toLowerCase() === 'q') {
        const parsed = Number(value.trim());
        q = Number.isFinite(parsed) ? Math.min(1, Math.max(0, parsed)) : 0;
      }
    }
    const media = type.trim().toLowerCase();
    if (media === 'application/openmetrics-text') openMetrics = Math.max(openMetrics, q);
    else if (media === 'text/plain' || media === 'text/*' || media === '*/*') text = Math.max(text, q);
  }
  return openMetrics > 0 && openMetrics >= text;
}

function number(value: number): string {
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  if (Number.isNaN(value)) return 'NaN';
  return String(value);
}

function escapeHelp(help: string, openMetrics: boolean): string {
  const escaped = help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
  return openMetrics ? escaped.replace(/"/g, '\\"') : escaped;
}

function labelText(labels: SampleJson['labels']): string {
  if (labels === undefined) return '';
  const parts: string[] = [];
  for (const [key, value] of Object.entries(labels)) {
    if (value === undefined) continue;
    const text = typeof value === 'number' ? number(value) : value;
    parts.push(`${key}="${text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')}"`);
  }
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

/**
 * Renders `families` in OpenMetrics 1.0.0 (`openMetrics`) or the Prometheus
 * text format. Counters are named as prom-client names them in OpenMetrics
 * (family without `_total`, samples with it), in both formats, so a scrape
 * stores the same series whichever format it asked for.
 */
export function render(families: readonly FamilyJson[], openMetrics: boolean): string {
  const lines: string[] = [];
  for (const family of families) {
    const kind = String(family.type);
    const counter = kind === 'counter';
    const base = counter ? family.name.replace(/_total$/, '') : family.name;
    const name = openMetrics || !counter ? base : `${base}_total`;
    const type = ['counter', 'gauge', 'histogram', 'summary'].includes(kind)
      ? kind
      : openMetrics
        ? 'unknown'
        : 'untyped';
    lines.push(`# HELP ${name} ${escapeHelp(family.help, openMetrics)}`, `# TYPE ${name} ${type}`);
    for (const sample of family.values ?? []) {
      const sampleName = counter ? `${base}_total` : (sample.metricName ?? family.name);
      lines.push(`${sampleName}${labelText(sample.labels)} ${number(sample.value)}`);
    }
    if (!openMetrics) lines.push('');
  }
  if (openMetrics) lines.push('# EOF');
  return `${lines.join('\n')}\n`;
}
