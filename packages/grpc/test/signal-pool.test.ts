import { describe, expect, it } from 'vitest';
import { SignalPool } from '../src/internal/signal-pool.js';

describe('SignalPool', () => {
  it('reuses a controller whose signal never aborted and has no listener', () => {
    const pool = new SignalPool(2);
    const a = pool.take();
    pool.give(a);
    expect(pool.size).toBe(1);
    expect(pool.take()).toBe(a);
    expect(pool.size).toBe(0);
  });

  it('drops a controller that aborted, or whose signal still has a listener', () => {
    const pool = new SignalPool();
    const aborted = pool.take();
    aborted.abort(new Error('cancelled'));
    pool.give(aborted);
    const listened = pool.take();
    listened.signal.addEventListener('abort', () => {});
    pool.give(listened);
    expect(pool.size).toBe(0);
    expect(pool.take()).not.toBe(aborted);
  });

  it('keeps at most max idle controllers', () => {
    const pool = new SignalPool(3);
    const taken = Array.from({ length: 10 }, () => pool.take());
    for (const c of taken) pool.give(c);
    expect(pool.size).toBe(3);
  });
});
