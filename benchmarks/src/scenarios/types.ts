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
  /** Builds what to measure, in the child process; imports the library itself. */
  readonly setup: () => Promise<Prepared>;
}

/** A target from the issue: `subject`'s cost at most `maxRatio` times `against`'s. */
export interface TargetDef {
  readonly subject: string;
  readonly against: string;
  readonly maxRatio: number;
  /** Also require at most this many bytes allocated per call over the baseline. */
  readonly maxOverheadBytes?: number;
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
  /** The baseline measured in the same child process (latency and throughput kinds). */
  readonly baseline?: () => Op;
  /** For `http`: the subject id that serves as the baseline (a server with no limiter). */
  readonly baselineSubject?: string;
  readonly subjects: readonly SubjectDef[];
  readonly targets: readonly TargetDef[];
}
