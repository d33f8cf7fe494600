import type { Summary } from '../harness/stats.js';
import type { SubjectOutcome } from '../harness/types.js';

/** `123 ns`, `12.3 µs`, `4.56 ms`. */
export function formatNs(ns: number): string {
  const abs = Math.abs(ns);
  if (abs < 1000) return `${Math.round(ns)} ns`;
  if (abs < 1e6) return `${(ns / 1000).toFixed(abs < 1e4 ? 2 : 1)} µs`;
  return `${(ns / 1e6).toFixed(2)} ms`;
}

/** `0 B`, `975 B`, `1.23 kB`. */
export function formatBytes(bytes: number): string {
  const abs = Math.abs(bytes);
  if (abs < 1000) return `${Math.round(bytes)} B`;
  return `${(bytes / 1000).toFixed(abs < 1e4 ? 2 : 1)} kB`;
}

/** `4.21 M/s`, `812 k/s`, `950 /s`. */
export function formatRate(perSecond: number): string {
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(2)} M/s`;
  if (perSecond >= 1e3) return `${(perSecond / 1e3).toFixed(perSecond >= 1e4 ? 0 : 1)} k/s`;
  return `${Math.round(perSecond)} /s`;
}

/** `0.312×`, `2.50×`, `31×`; ratios under 0.01 show as `<0.01×`. */
export function formatRatio(ratio: number | undefined): string {
  if (ratio === undefined) return '—';
  if (ratio < 0.01) return '<0.01×';
  return `${ratio.toFixed(ratio < 1 ? 3 : ratio < 10 ? 2 : 0)}×`;
}

/** `median (min – max)` in a unit. */
export function formatSummary(summary: Summary, unit: (value: number) => string): string {
  return `${unit(summary.median)} (${unit(summary.min)} – ${unit(summary.max)})`;
}

/** A table cell must not break the table. */
export function cell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ');
}

/** The reason a row has no numbers, shortened to its first line. */
export function outcomeNote(outcome: SubjectOutcome): string | undefined {
  if (outcome.status === 'ok') return undefined;
  const first = outcome.reason.split('\n')[0] ?? '';
  return outcome.status === 'unavailable' ? `not yet available (${first})` : `failed: ${first}`;
}
