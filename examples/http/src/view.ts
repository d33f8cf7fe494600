import type { Phase } from './timeline.js';
import { OUTCOME_LABELS, OUTCOMES, type Tally } from './traffic.js';

/** What the live view shows each second. */
export interface Frame {
  readonly elapsedMs: number;
  readonly durationMs: number;
  readonly phase: Phase;
  readonly phaseCount: number;
  /** Answers in the last second. */
  readonly second: Tally;
  /** Answers since the start. */
  readonly total: Tally;
  readonly breakerState: string;
  /** Breaker transitions in the last second, e.g. `closed→open`. */
  readonly transitions: readonly string[];
  readonly bulkheadActive: number;
  readonly bulkheadQueued: number;
  readonly bulkheadMax: number;
  /** The last answer of `GET /health` (status code and health status), as a readiness probe sees it. */
  readonly health: string;
}

const useColor = (stream: NodeJS.WriteStream): boolean => stream.isTTY === true && !('NO_COLOR' in process.env);

function paint(on: boolean, code: number, text: string): string {
  return on ? `\x1b[${code}m${text}\x1b[0m` : text;
}

function bar(fraction: number, width: number): string {
  const filled = Math.max(0, Math.min(width, Math.round(fraction * width)));
  return `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

function counts(tally: Tally): string {
  return OUTCOMES.map((o) => `${OUTCOME_LABELS[o]} ${String(tally[o]).padStart(3)}`).join('  ');
}

const STATE_COLOR: Readonly<Record<string, number>> = { closed: 32, open: 31, 'half-open': 33 };

/**
 * Renders the demo second by second: a small block redrawn in place when
 * the output is a terminal, one plain line a second otherwise (CI logs, pipes).
 */
export class LiveView {
  readonly #out: NodeJS.WriteStream;
  readonly #tty: boolean;
  readonly #color: boolean;
  #drawnLines = 0;

  /** @param out - where to write, usually `process.stdout` */
  constructor(out: NodeJS.WriteStream) {
    this.#out = out;
    this.#tty = out.isTTY === true;
    this.#color = useColor(out);
  }

  /** Draws one frame. */
  render(frame: Frame): void {
    if (this.#tty) this.#redraw(frame);
    else this.#out.write(`${this.#line(frame)}\n`);
  }

  /** Leaves the redrawn block in place so the summary prints below it. */
  finish(): void {
    this.#drawnLines = 0;
  }

  #line(f: Frame): string {
    const progress = bar(f.elapsedMs / f.durationMs, 10);
    const changes = f.transitions.length > 0 ? ` (${f.transitions.join(', ')})` : '';
    return (
      `[${seconds(f.elapsedMs).padStart(5)}] ${f.phase.name.padEnd(8)} ${progress}  ${counts(f.second)}` +
      ` | breaker ${f.breakerState}${changes} | bulkhead ${f.bulkheadActive}/${f.bulkheadMax} active, ${f.bulkheadQueued} queued` +
      ` | health ${f.health}`
    );
  }

  #redraw(f: Frame): void {
    const c = this.#color;
    const state = paint(c, STATE_COLOR[f.breakerState] ?? 0, f.breakerState.toUpperCase());
    const changes = f.transitions.length > 0 ? paint(c, 1, `  ${f.transitions.join(', ')}`) : '';
    const load = bar(f.bulkheadActive / f.bulkheadMax, f.bulkheadMax);
    const lines = [
      `${paint(c, 1, `Phase ${f.phase.index + 1}/${f.phaseCount}: ${f.phase.name}`)} — ${f.phase.story}`,
      `  ${bar(f.elapsedMs / f.durationMs, 30)} ${seconds(f.elapsedMs)} / ${seconds(f.durationMs)}`,
      `  last second   ${counts(f.second)}`,
      `  since start   ${counts(f.total)}`,
      `  breaker ${state}${changes}`,
      `  bulkhead ${load} ${f.bulkheadActive}/${f.bulkheadMax} active, ${f.bulkheadQueued} queued`,
      `  GET /health ${f.health}`,
    ];
    let text = '';
    if (this.#drawnLines > 0) text += `\x1b[${this.#drawnLines}A`;
    for (const line of lines) text += `\x1b[2K${line}\n`;
    this.#drawnLines = lines.length;
    this.#out.write(text);
  }
}
