import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const script = fileURLToPath(new URL('./fixtures/waits.mjs', import.meta.url));
/** Far beyond what any scenario needs (they wait 100 ms at most); a process still running then is hung. */
const HANG_MS = 30_000;

interface Run {
  code: number | null;
  killed: boolean;
  stdout: string;
  stderr: string;
}

/** Runs one scenario of fixtures/waits.mjs against the source (through tsx) in a node with nothing else to do. */
function scenario(name: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--conditions=@resilience/source', '--import', 'tsx', script, name],
      { cwd: root, timeout: HANG_MS, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => {
        const failure = error as (Error & { code?: number | string; killed?: boolean }) | null;
        resolve({
          code: failure === null ? 0 : typeof failure.code === 'number' ? failure.code : null,
          killed: failure?.killed === true,
          stdout,
          stderr,
        });
      },
    );
  });
}

function parse(run: Run): unknown {
  expect({ killed: run.killed, code: run.code, stderr: run.stderr }).toEqual({ killed: false, code: 0, stderr: '' });
  return JSON.parse(run.stdout);
}

describe('process lifetime: a script with nothing else to do', { timeout: HANG_MS + 10_000 }, () => {
  it('a pending Timeout call rejects with TimeoutError instead of Node exiting with code 13', async () => {
    expect(parse(await scenario('timeout-pending'))).toEqual({ name: 'TimeoutError', code: 'ERR_TIMEOUT' });
  });

  it('a pending call with its own timeout rejects with TimeoutError', async () => {
    expect(parse(await scenario('timeout-own-pending'))).toEqual({ name: 'TimeoutError', code: 'ERR_TIMEOUT' });
  });

  it('a queued bulkhead call rejects with BulkheadFullError when its queue timeout runs out', async () => {
    expect(parse(await scenario('bulkhead-queue-timeout'))).toEqual({
      name: 'BulkheadFullError',
      code: 'ERR_BULKHEAD_FULL',
    });
  });

  it("an endless retry with no delay lets timers and the caller's AbortSignal.timeout run", async () => {
    expect(parse(await scenario('retry-zero-delay'))).toEqual({
      name: 'TimeoutError',
      code: 23, // DOMException TIMEOUT_ERR: AbortSignal.timeout's reason
      timerRan: true,
      retried: true,
    });
  });

  it('idle patterns whose settings hold 10-minute timers let the process exit by itself', async () => {
    expect(parse(await scenario('idle'))).toEqual({ idle: true });
  });
});
