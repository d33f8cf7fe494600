import { fork } from 'node:child_process';
import type { ChildMessage, MeasureOptions, SubjectOutcome } from './types.js';

/** How to start the child processes. */
export interface SpawnOptions {
  /** The child entry. @default `child.js` beside this file */
  readonly childUrl?: URL;
  /** The module the child loads scenarios from. @default `../scenarios/index.js` beside this file */
  readonly registryUrl?: URL;
  /** Extra node flags (e.g. `--import tsx` to run the TypeScript sources). @default [] */
  readonly execArgv?: readonly string[];
  /** The `node` binary the child runs on (another Node.js major, from the runtime cache). @default process.execPath */
  readonly execPath?: string;
  /** Working directory of the child. @default process.cwd() */
  readonly cwd?: string;
  /** Kill the child after this long. @default 180000 */
  readonly timeoutMs?: number;
  /** For server subjects: load the server at `port`, return what to report, then the child is stopped. */
  readonly onListening?: (port: number) => Promise<SubjectOutcome>;
}

/** The node flags every child gets: `--expose-gc` for the GC-free byte batches and heap readings. */
export const CHILD_FLAGS: readonly string[] = ['--expose-gc'];

/**
 * Runs one subject of one scenario in a fresh `node` process, so no JIT
 * state, inline cache or library module is shared with any other subject.
 */
export function runInChild(
  scenarioId: string,
  subjectId: string,
  measure: MeasureOptions,
  options: SpawnOptions = {},
): Promise<SubjectOutcome> {
  const childUrl = options.childUrl ?? new URL('./child.js', import.meta.url);
  const registryUrl = options.registryUrl ?? new URL('../scenarios/index.js', import.meta.url);
  const child = fork(childUrl, [registryUrl.href, scenarioId, subjectId, JSON.stringify(measure)], {
    execArgv: [...CHILD_FLAGS, ...(options.execArgv ?? [])],
    ...(options.execPath === undefined ? {} : { execPath: options.execPath }),
    cwd: options.cwd ?? process.cwd(),
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  return new Promise<SubjectOutcome>((resolve) => {
    let outcome: SubjectOutcome | undefined;
    const timer = setTimeout(() => {
      outcome ??= { status: 'failed', reason: `timed out after ${options.timeoutMs ?? 180_000} ms` };
      child.kill('SIGKILL');
    }, options.timeoutMs ?? 180_000);
    child.on('message', (raw) => {
      const message = raw as ChildMessage;
      if (message.status !== 'listening') {
        outcome ??= message;
        return;
      }
      const load =
        options.onListening?.(message.port) ??
        Promise.resolve<SubjectOutcome>({
          status: 'failed',
          reason: 'a server subject needs onListening',
        });
      void load.then(
        (result) => {
          outcome ??= result;
          child.send('stop');
        },
        (error: unknown) => {
          outcome ??= { status: 'failed', reason: String(error) };
          child.send('stop');
        },
      );
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve(
        outcome ?? {
          status: 'failed',
          reason: `child exited (${signal ?? `code ${code}`}) without a result${stderr ? `: ${stderr.trim()}` : ''}`,
        },
      );
    });
  });
}
