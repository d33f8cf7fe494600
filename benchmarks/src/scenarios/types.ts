import type { Op, Prepared } from '../harness/types.js';

/** One library (or one configuration of it) in a scenario. */
export interface SubjectDef {
  /** Stable id, unique in its scenario (`ours`, `cockatiel`, `opossum-no-timeout`…). */
  readonly id: string;
  /** What the table shows. */
  readonly label: string;
  /** The npm package whose version the report prints. */
  readonly library: string;
  /**
   * The Node.js major its child runs on, a `node` installed from the registry into the runtime cache
   * (a library that needs a newer Node than the one running the bench).
   * @default the Node.js running `pnpm bench`
   */
  readonly node?: number;
  /**
   * A part a composition is measured against (a step alone, one boundary), not a way to do what the
   * scenario measures: a row of its own, without a ratio column.
   */
  readonly component?: boolean;
  /** Builds what to measure, in the child process; imports the library itself. */
  readonly setup: () => Promise<Prepared>;
}

/** A target from the issue: `subject`'s cost at most `maxRatio` times `against`'s. */
export interface RatioTarget {
  readonly kind?: 'ratio';
  readonly subject: string;
  readonly against: string;
  readonly maxRatio: number;
  /** Also require at most this many bytes allocated per call over the baseline. */
  readonly maxOverheadBytes?: number;
}

/** `subject`'s overhead at most `against`'s plus `maxExtraNs` (a decision costs one clock read + 15 ns). */
export interface PlusTarget {
  readonly kind: 'plus';
  readonly subject: string;
  readonly against: string;
  readonly maxExtraNs: number;
}

/** At most `maxOverheadBytes` allocated per call over the baseline (0 B per decision with an integer clock). */
export interface BytesTarget {
  readonly kind: 'bytes';
  readonly subject: string;
  readonly maxOverheadBytes: number;
}

/** An absolute bound on the cost: bytes per instance (a breaker in at most 100 B). */
export interface AtMostTarget {
  readonly kind: 'at-most';
  readonly subject: string;
  readonly max: number;
}

/** At least `minPerSecond` calls per second (1e9 ÷ the subject's ns per call, the work included). */
export interface RateTarget {
  readonly kind: 'rate';
  readonly subject: string;
  readonly minPerSecond: number;
}

/**
 * Flat per-call cost as the work grows: the largest per-call overhead of
 * `subjects` at most `maxSpread` times the smallest (an O(n) cost would grow
 * as much as the work does).
 */
export interface FlatTarget {
  readonly kind: 'flat';
  readonly subjects: readonly string[];
  readonly maxSpread: number;
}

/**
 * A composition costs no more than its steps alone: `subject`'s overhead at
 * most the sum of the `parts`' overheads, each part measured alone in the same
 * scenario.
 */
export interface SumTarget {
  readonly kind: 'sum';
  readonly subject: string;
  readonly parts: readonly string[];
}

/** A target from the issue, checked against one run. */
export type TargetDef = RatioTarget | PlusTarget | BytesTarget | AtMostTarget | RateTarget | FlatTarget | SumTarget;

/** One point of a growth series: a subject measured at a size of the work. */
export interface GrowthPoint {
  readonly subject: string;
  /** The size of the work (calls in flight, keys, queue depth, callers). */
  readonly x: number;
}

/** A scenario whose subjects are one pattern at growing sizes of the work, for the growth plot. */
export interface GrowthDef {
  /** What grows, for the legend (`calls in flight`). */
  readonly axis: string;
  /** The series' short name in the plot's legend (`CircuitBreaker`). */
  readonly legend: string;
  readonly points: readonly GrowthPoint[];
}

/** How a scenario is measured. */
export type ScenarioKind = 'latency' | 'throughput' | 'instance' | 'http';

/** One benchmark scenario: the same configuration and work for every subject. */
export interface ScenarioDef {
  readonly id: string;
  readonly title: string;
  readonly kind: ScenarioKind;
  /** The shared configuration, in words, for the report. */
  readonly config: string;
  /** What the baseline is, for the report. */
  readonly baselineLabel: string;
  /**
   * The baseline measured in the same child process (latency and throughput
   * kinds); given the subject's id, so a growth point gets a baseline of its size.
   */
  readonly baseline?: (subjectId: string) => Op;
  /** For `http`: the subject id that serves as the baseline (a server with no limiter). */
  readonly baselineSubject?: string;
  readonly subjects: readonly SubjectDef[];
  readonly targets: readonly TargetDef[];
  /** Set on a growth scenario: its subjects as points of one series in the growth plot. */
  readonly growth?: GrowthDef;
}
