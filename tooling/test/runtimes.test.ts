import { describe, expect, it } from 'vitest';
import { defaultRuntimes, parseRuntime, portableFiles, portableSuites } from '../src/runtimes.js';

describe('pnpm test:runtimes', () => {
  it('runs Node 22, 24 and 26, Bun and Deno when given no runtime', () => {
    expect(defaultRuntimes).toEqual([22, 24, 26, 'bun', 'deno']);
  });

  it('reads Node majors, bun, deno and portable, and names anything else in its error', () => {
    expect(parseRuntime('24')).toBe(24);
    expect(parseRuntime('bun')).toBe('bun');
    expect(parseRuntime('deno')).toBe('deno');
    expect(parseRuntime('portable')).toBe('portable');
    expect(() => parseRuntime('18')).toThrow(/"18"/);
    expect(() => parseRuntime('22.5')).toThrow(/"22.5"/);
    expect(() => parseRuntime('')).toThrow(/""/);
    expect(() => parseRuntime('node')).toThrow(/"node"/);
  });

  it('finds the portable suite, one file per pattern and the shared-signal and timer checks', () => {
    expect(portableFiles()).toEqual([
      './test/portable/bulkhead.portable.ts',
      './test/portable/circuit-breaker.portable.ts',
      './test/portable/pipeline.portable.ts',
      './test/portable/rate-limiter.portable.ts',
      './test/portable/retry.portable.ts',
      './test/portable/shared-signal.portable.ts',
      './test/portable/timeout.portable.ts',
    ]);
  });

  it("runs the built Hono adapter's smoke test beside the core's suite, from its own folder", () => {
    expect(portableSuites.map((suite) => suite.name)).toEqual(['@resilience/core', '@resilience/hono']);
    const hono = portableSuites[1];
    expect(hono?.dir.endsWith('/packages/hono')).toBe(true);
    expect(portableFiles(hono?.dir)).toEqual(['./test/portable/hono.portable.ts']);
  });
});
