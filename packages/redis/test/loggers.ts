import type { Logger } from '@resilience/core';

/** A logger that keeps its lines, each prefixed with its level. */
export function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    warn: (m: string) => lines.push(`warn ${m}`),
    info: (m: string) => lines.push(`info ${m}`),
    debug: () => undefined,
    error: (m: string) => lines.push(`error ${m}`),
  };
}

/** A logger that says nothing. */
export const quiet: Logger = {
  warn: () => undefined,
  info: () => undefined,
  debug: () => undefined,
  error: () => undefined,
};
