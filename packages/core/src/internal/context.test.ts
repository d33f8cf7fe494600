import { describe, expect, it } from 'vitest';
import { neverAbortedSignal, rootContext, toContext } from './context.js';

describe('toContext', () => {
  it('shares one frozen root context for calls without options', () => {
    expect(toContext(undefined)).toBe(rootContext);
    expect(rootContext).toEqual({ signal: neverAbortedSignal, attempt: 1 });
    expect(Object.isFrozen(rootContext)).toBe(true);
    expect(neverAbortedSignal.aborted).toBe(false);
  });

  it('reuses a complete context as it is', () => {
    const ctx = { signal: new AbortController().signal, attempt: 3, deadline: 10 };
    expect(toContext(ctx)).toBe(ctx);
  });

  it('fills what partial options leave out', () => {
    const signal = new AbortController().signal;
    expect(toContext({ signal })).toEqual({ signal, attempt: 1, deadline: undefined });
    expect(toContext({ deadline: 50 })).toEqual({ signal: neverAbortedSignal, attempt: 1, deadline: 50 });
    expect(toContext({ attempt: 2 })).toEqual({ signal: neverAbortedSignal, attempt: 2, deadline: undefined });
  });
});
