import type { SubjectOutcome, SubjectResult } from '../harness/types.js';
import type { GrowthDef, ScenarioKind, TargetDef } from '../scenarios/types.js';

/** Where and with what the run happened. */
export interface MachineInfo {
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly os: string;
  readonly node: string;
  readonly v8: string;
  /** 1-minute load average when the run started and when it ended (other work on a shared machine shows here). */
  readonly loadAverage: string;
}

/** One subject's row. */
export interface SubjectReport {
  readonly id: string;
  readonly label: string;
  readonly library: string;
  /** The Node.js version its child ran on (`v22.…`), when not the one running the bench ({@link MachineInfo.node}). */
  readonly node?: string;
  /** A part a composition is measured against ({@link SubjectDef.component}): no ratio column. */
  readonly component?: boolean;
  readonly outcome: SubjectOutcome;
}

/** One scenario's rows. */
export interface ScenarioReport {
  readonly id: string;
  readonly title: string;
  readonly kind: ScenarioKind;
  readonly config: string;
  readonly baselineLabel: string;
  readonly baselineSubject?: string;
  readonly targets: readonly TargetDef[];
  readonly subjects: readonly SubjectReport[];
  /** Set on a growth scenario: its subjects as points of one series in the growth plot. */
  readonly growth?: GrowthDef;
}

/** A whole run. */
export interface BenchReport {
  readonly date: string;
  readonly quick: boolean;
  readonly machine: MachineInfo;
  /** Installed version of each library (and of our packages, with the git commit). */
  readonly versions: Readonly<Record<string, string>>;
  /** Flags every child process ran with. */
  readonly childFlags: readonly string[];
  /** The measurement settings. */
  readonly settings: Readonly<Record<string, number>>;
  readonly scenarios: readonly ScenarioReport[];
}

/** A target's verdict. */
export interface TargetVerdict {
  readonly target: TargetDef;
  readonly status: 'pass' | 'miss' | 'not measured';
  /** ours ÷ theirs, when both were measured (ratio targets). */
  readonly ratio?: number;
  /** Our bytes per call over the baseline, for targets that bound it. */
  readonly overheadBytes?: number;
  /**
   * The measured value the target bounds, in the target's unit: ns over the
   * other subject (`plus`), bytes (`at-most`), calls per second (`rate`),
   * largest ÷ smallest (`flat`).
   */
  readonly value?: number;
  /** `flat`: the same spread of the baseline's ns per call (bare calls at the same sizes): the machine's own growth. */
  readonly baselineSpread?: number;
}

function resultOf(scenario: ScenarioReport, subjectId: string): SubjectResult | undefined {
  const outcome = scenario.subjects.find((s) => s.id === subjectId)?.outcome;
  return outcome?.status === 'ok' ? outcome.result : undefined;
}

/**
 * The cost that ratios compare: overhead ns per call over the baseline
 * (latency, throughput), bytes per instance (instance), or µs per request over
 * the server without a limiter (http). Lower is better.
 */
export function costOf(scenario: ScenarioReport, subjectId: string): number | undefined {
  const result = resultOf(scenario, subjectId);
  if (result === undefined) return undefined;
  switch (result.kind) {
    case 'latency':
      return result.overheadNs.median;
    case 'instance':
      return result.bytesPerInstance.median;
    case 'http': {
      if (scenario.baselineSubject === undefined || subjectId === scenario.baselineSubject) return undefined;
      const bare = resultOf(scenario, scenario.baselineSubject);
      if (bare?.kind !== 'http') return undefined;
      return 1e6 / result.meanRequestsPerSecond - 1e6 / bare.meanRequestsPerSecond;
    }
  }
}

/**
 * `ours ÷ theirs` of the costs. An overhead at or below zero (lost in the
 * noise of the baseline) counts as 0; a competitor without a positive cost
 * gives no ratio.
 */
export function ratioOf(scenario: ScenarioReport, subjectId: string, againstId: string): number | undefined {
  const ours = costOf(scenario, subjectId);
  const theirs = costOf(scenario, againstId);
  if (ours === undefined || theirs === undefined || theirs <= 0) return undefined;
  return Math.max(ours, 0) / theirs;
}

/** ns per call of the subject, the work included (what a rate in calls per second comes from). */
export function nsPerCall(scenario: ScenarioReport, subjectId: string): number | undefined {
  const result = resultOf(scenario, subjectId);
  return result?.kind === 'latency' ? result.subjectNs.median : undefined;
}

/** Bytes allocated per call over the baseline, when measured. */
function overheadBytesOf(scenario: ScenarioReport, subjectId: string): number | undefined {
  const result = resultOf(scenario, subjectId);
  return result?.kind === 'latency' ? result.bytes?.overhead : undefined;
}

/**
 * The spread of per-call overheads over a growth series: largest ÷ smallest.
 * An overhead under 1 ns (lost in the baseline's noise) counts as 1 ns, so a
 * spread never divides by zero; `undefined` when a point was not measured.
 */
export function spreadOf(scenario: ScenarioReport, subjects: readonly string[]): number | undefined {
  const costs = subjects.map((id) => costOf(scenario, id));
  if (costs.length === 0 || costs.some((c) => c === undefined)) return undefined;
  const floored = (costs as number[]).map((c) => Math.max(c, 1));
  return Math.max(...floored) / Math.min(...floored);
}

/** Largest ÷ smallest baseline ns per call over a growth series (caches and GC growing with the live set). */
export function baselineSpreadOf(scenario: ScenarioReport, subjects: readonly string[]): number | undefined {
  const ns = subjects.map((id) => {
    const result = resultOf(scenario, id);
    return result?.kind === 'latency' ? result.baselineNs.median : undefined;
  });
  if (ns.length === 0 || ns.some((v) => v === undefined || v <= 0)) return undefined;
  return Math.max(...(ns as number[])) / Math.min(...(ns as number[]));
}

function judge(target: TargetDef, value: number | undefined, pass: (v: number) => boolean): TargetVerdict {
  if (value === undefined) return { target, status: 'not measured' };
  return { target, status: pass(value) ? 'pass' : 'miss', value };
}

/** Checks one target against a scenario's results. */
export function verdict(scenario: ScenarioReport, target: TargetDef): TargetVerdict {
  switch (target.kind) {
    case 'plus': {
      const ours = costOf(scenario, target.subject);
      const floor = costOf(scenario, target.against);
      const extra = ours === undefined || floor === undefined ? undefined : ours - floor;
      return judge(target, extra, (v) => v <= target.maxExtraNs);
    }
    case 'sum': {
      const ours = costOf(scenario, target.subject);
      const parts = target.parts.map((id) => costOf(scenario, id));
      const missing = ours === undefined || parts.some((c) => c === undefined);
      const sum = (parts as number[]).reduce((a, b) => a + Math.max(b, 0), 0);
      return judge(target, missing ? undefined : (ours as number) - sum, (v) => v <= 0);
    }
    case 'bytes': {
      const overheadBytes = overheadBytesOf(scenario, target.subject);
      const v = judge(target, overheadBytes, (b) => b <= target.maxOverheadBytes);
      return overheadBytes === undefined ? v : { ...v, overheadBytes };
    }
    case 'at-most':
      return judge(target, costOf(scenario, target.subject), (c) => c <= target.max);
    case 'rate': {
      const ns = nsPerCall(scenario, target.subject);
      return judge(target, ns === undefined || ns <= 0 ? undefined : 1e9 / ns, (r) => r >= target.minPerSecond);
    }
    case 'flat': {
      const v = judge(target, spreadOf(scenario, target.subjects), (s) => s <= target.maxSpread);
      const baselineSpread = baselineSpreadOf(scenario, target.subjects);
      return baselineSpread === undefined ? v : { ...v, baselineSpread };
    }
    default: {
      const ratio = ratioOf(scenario, target.subject, target.against);
      if (ratio === undefined) return { target, status: 'not measured' };
      const pass = ratio <= target.maxRatio;
      if (target.maxOverheadBytes === undefined) return { target, status: pass ? 'pass' : 'miss', ratio };
      const overheadBytes = overheadBytesOf(scenario, target.subject);
      if (overheadBytes === undefined) return { target, status: 'not measured', ratio };
      const both = pass && overheadBytes <= target.maxOverheadBytes;
      return { target, status: both ? 'pass' : 'miss', ratio, overheadBytes };
    }
  }
}

/** Checks a scenario's targets against its results. */
export function verdicts(scenario: ScenarioReport): TargetVerdict[] {
  return scenario.targets.map((target) => verdict(scenario, target));
}
