import type { Phase, PhaseName } from './timeline.js';
import { OUTCOME_LABELS, OUTCOMES, type Tally } from './traffic.js';

/** A breaker transition seen during the run. */
export interface Transition {
  readonly atMs: number;
  readonly phase: PhaseName;
  readonly from: string;
  readonly to: string;
}

/** What the run recorded, per phase. */
export interface RunRecord {
  readonly timeline: readonly Phase[];
  readonly tallies: ReadonlyMap<PhaseName, Tally>;
  readonly transitions: readonly Transition[];
  /** The breaker's state when each phase ended. */
  readonly stateAtEnd: ReadonlyMap<PhaseName, string>;
  /** The most requests the bulkhead ran / queued at once in each phase (sampled). */
  readonly peakLoad: ReadonlyMap<PhaseName, { active: number; queued: number }>;
  readonly durationMs: number;
}

/** One expectation about the patterns' behaviour. */
export interface Check {
  readonly description: string;
  readonly passed: boolean;
  readonly detail: string;
}

function has(record: RunRecord, name: PhaseName): boolean {
  return record.timeline.some((p) => p.name === name);
}

function tallyOf(record: RunRecord, name: PhaseName): Tally | undefined {
  return record.tallies.get(name);
}

/** The expectations that apply to the phases that ran. */
export function evaluate(record: RunRecord): Check[] {
  const checks: Check[] = [];
  if (has(record, 'healthy')) {
    const t = tallyOf(record, 'healthy');
    const total = t === undefined ? 0 : OUTCOMES.reduce((sum, o) => sum + t[o], 0);
    const ok = t?.ok ?? 0;
    checks.push({
      description: 'healthy traffic went through (>= 90% ok)',
      passed: total > 0 && ok / total >= 0.9,
      detail: `${ok} of ${total} ok`,
    });
  }
  if (has(record, 'failing')) {
    const opened = record.transitions.filter((t) => t.phase === 'failing' && t.to === 'open');
    checks.push({
      description: 'the breaker opened while the upstream failed',
      passed: opened.length > 0,
      detail: opened.length > 0 ? `first at ${(Number(opened[0]?.atMs) / 1000).toFixed(1)}s` : 'never opened',
    });
  }
  if (has(record, 'slow')) {
    const timedOut = tallyOf(record, 'slow')?.timedOut ?? 0;
    checks.push({
      description: 'requests timed out while the upstream was slow',
      passed: timedOut > 0,
      detail: `${timedOut} timed out`,
    });
  }
  if (has(record, 'recovery')) {
    const recovery = record.timeline.find((p) => p.name === 'recovery') as Phase;
    const hadTrouble = record.timeline.some(
      (p) => (p.name === 'failing' || p.name === 'slow') && p.index < recovery.index,
    );
    const closedInRecovery = record.transitions.some((t) => t.phase === 'recovery' && t.to === 'closed');
    const endState = record.stateAtEnd.get('recovery') ?? 'unknown';
    checks.push({
      description: hadTrouble ? 'the breaker closed again after recovery' : 'the breaker stayed closed',
      passed: endState === 'closed' && (closedInRecovery || !hadTrouble),
      detail: `${closedInRecovery ? 'closed during recovery' : 'no close during recovery'}, ${endState} at its end`,
    });
  }
  if (has(record, 'spike')) {
    const limited = tallyOf(record, 'spike')?.rateLimited ?? 0;
    checks.push({
      description: '429s appeared during the spike',
      passed: limited > 0,
      detail: `${limited} rate limited`,
    });
    const shed = tallyOf(record, 'spike')?.shed ?? 0;
    const peak = record.peakLoad.get('spike') ?? { active: 0, queued: 0 };
    checks.push({
      description: 'the bulkhead shed load during the spike',
      passed: shed > 0,
      detail: `${shed} shed, peak ${peak.active} running and ${peak.queued} queued`,
    });
  }
  return checks;
}

/** The summary printed at the end: a table per phase, the transitions and the checks. */
export function summary(record: RunRecord, checks: readonly Check[], color: boolean): string {
  const paint = (code: number, text: string): string => (color ? `\x1b[${code}m${text}\x1b[0m` : text);
  const lines: string[] = [];
  const total = [...record.tallies.values()].reduce((sum, t) => sum + OUTCOMES.reduce((s, o) => s + t[o], 0), 0);
  lines.push('', paint(1, `Summary: ${total} requests in ${(record.durationMs / 1000).toFixed(1)} s`), '');
  const header = ['phase'.padEnd(9), ...OUTCOMES.map((o) => OUTCOME_LABELS[o].padStart(14)), '  peak load'];
  lines.push(header.join(''));
  for (const phase of record.timeline) {
    const t = record.tallies.get(phase.name);
    const peak = record.peakLoad.get(phase.name) ?? { active: 0, queued: 0 };
    const cells = OUTCOMES.map((o) => String(t?.[o] ?? 0).padStart(14));
    lines.push([phase.name.padEnd(9), ...cells, `  ${peak.active} active, ${peak.queued} queued`].join(''));
  }
  lines.push('', 'Breaker transitions:');
  if (record.transitions.length === 0) lines.push('  none');
  for (const t of record.transitions) {
    lines.push(`  ${(t.atMs / 1000).toFixed(1).padStart(5)}s  ${t.from} -> ${t.to}  (${t.phase})`);
  }
  lines.push('', 'Checks:');
  for (const check of checks) {
    const mark = check.passed ? paint(32, 'PASS') : paint(31, 'FAIL');
    lines.push(`  ${mark}  ${check.description}: ${check.detail}`);
  }
  const failed = checks.filter((c) => !c.passed).length;
  lines.push(
    '',
    failed === 0
      ? paint(32, 'Result: the patterns behaved as expected.')
      : paint(31, `Result: ${failed} check${failed === 1 ? '' : 's'} failed.`),
    '',
  );
  return lines.join('\n');
}
