import type { SubjectOutcome, SubjectResult } from '../harness/types.js';
import type { ScenarioKind, TargetDef } from '../scenarios/types.js';

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
  /** ours ÷ theirs, when both were measured. */
  readonly ratio?: number;
  /** Our bytes per call over the baseline, for targets that bound it. */
  readonly overheadBytes?: number;
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

/** Checks a scenario's targets against its results. */
export function verdicts(scenario: ScenarioReport): TargetVerdict[] {
  return scenario.targets.map((target) => {
    const ratio = ratioOf(scenario, target.subject, target.against);
    if (ratio === undefined) return { target, status: 'not measured' };
    const result = resultOf(scenario, target.subject);
    const overheadBytes = result?.kind === 'latency' ? result.bytes?.overhead : undefined;
    let pass = ratio <= target.maxRatio;
    if (target.maxOverheadBytes !== undefined) {
      if (overheadBytes === undefined) return { target, status: 'not measured', ratio };
      pass &&= overheadBytes <= target.maxOverheadBytes;
      return { target, status: pass ? 'pass' : 'miss', ratio, overheadBytes };
    }
    return { target, status: pass ? 'pass' : 'miss', ratio };
  });
}
