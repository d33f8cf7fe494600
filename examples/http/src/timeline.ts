import type { UpstreamMode } from './upstream.js';

/** The names of the demo's phases, in their default order. */
export const PHASE_NAMES = ['healthy', 'failing', 'slow', 'recovery', 'spike'] as const;

/** One of {@link PHASE_NAMES}. */
export type PhaseName = (typeof PHASE_NAMES)[number];

/** What a phase does to the system. */
export interface PhaseSpec {
  readonly name: PhaseName;
  /** Its share of the run (the default 30 s run gives it this many seconds). */
  readonly weight: number;
  /** What the upstream does meanwhile. */
  readonly upstream: UpstreamMode;
  /** Requests per second the demo's main client sends (from 127.0.0.1). */
  readonly rate: number;
  /**
   * A crowd of other clients, each from its own loopback address
   * (127.0.0.2, 127.0.0.3, ...), so the per-client rate limit lets each
   * through while together they fill the bulkhead. None by default.
   */
  readonly crowd?: { readonly clients: number; readonly rate: number };
  /** One line for the live view. */
  readonly story: string;
}

/** A phase placed on the run's clock. */
export interface Phase extends PhaseSpec {
  readonly index: number;
  readonly startMs: number;
  readonly endMs: number;
}

const SPECS: Readonly<Record<PhaseName, PhaseSpec>> = {
  healthy: { name: 'healthy', weight: 5, upstream: 'healthy', rate: 25, story: 'all is well' },
  failing: { name: 'failing', weight: 7, upstream: 'failing', rate: 25, story: 'upstream answers 500 to everything' },
  slow: { name: 'slow', weight: 6, upstream: 'slow', rate: 25, story: 'upstream takes 2 s per answer' },
  recovery: { name: 'recovery', weight: 6, upstream: 'healthy', rate: 25, story: 'upstream is back' },
  spike: {
    name: 'spike',
    weight: 6,
    upstream: 'busy',
    rate: 100,
    crowd: { clients: 10, rate: 10 },
    story: 'one client sends 4x the traffic, 10 more arrive, the upstream slows to 80 ms',
  },
};

/** Parses a comma-separated list of phase names; throws on an unknown or repeated name. */
export function parsePhases(list: string): PhaseName[] {
  const names = list
    .split(',')
    .map((n) => n.trim())
    .filter((n) => n !== '');
  if (names.length === 0) throw new RangeError('--phases needs at least one phase');
  for (const name of names) {
    if (!(PHASE_NAMES as readonly string[]).includes(name)) {
      throw new RangeError(`--phases: unknown phase "${name}" (known: ${PHASE_NAMES.join(', ')})`);
    }
  }
  if (new Set(names).size !== names.length) throw new RangeError('--phases: a phase may appear only once');
  return names as PhaseName[];
}

/** Lays the chosen phases out over `durationMs`, each by its weight. */
export function buildTimeline(names: readonly PhaseName[], durationMs: number): Phase[] {
  const total = names.reduce((sum, n) => sum + SPECS[n].weight, 0);
  let start = 0;
  return names.map((name, index) => {
    const spec = SPECS[name];
    const length = Math.round((durationMs * spec.weight) / total);
    const end = index === names.length - 1 ? durationMs : start + length;
    const phase: Phase = { ...spec, index, startMs: start, endMs: end };
    start = end;
    return phase;
  });
}

/** The phase running at `elapsedMs` (the last one once the time is over). */
export function phaseAt(timeline: readonly Phase[], elapsedMs: number): Phase {
  for (const phase of timeline) if (elapsedMs < phase.endMs) return phase;
  return timeline[timeline.length - 1] as Phase;
}
