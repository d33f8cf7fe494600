import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { captureWarnings, listenersAfterTurn } from '../../test/waits-support.js';
import { type SignalWaiter, signalHub } from './signal-hub.js';

class Recorder implements SignalWaiter {
  signalPrev: SignalWaiter | null = null;
  signalNext: SignalWaiter | null = null;
  readonly name: string;
  readonly log: string[];
  onAbort: ((reason: unknown) => void) | undefined;
  constructor(name: string, log: string[], onAbort?: (reason: unknown) => void) {
    this.name = name;
    this.log = log;
    this.onAbort = onAbort;
  }
  signalAborted(reason: unknown): void {
    this.log.push(`${this.name}:${String(reason)}`);
    this.onAbort?.(reason);
  }
}

describe('signalHub', () => {
  it('is one hub per signal, with one listener however many waiters join', async () => {
    const controller = new AbortController();
    const hub = signalHub(controller.signal);
    expect(signalHub(controller.signal)).toBe(hub);
    const log: string[] = [];
    const waiters = Array.from({ length: 20 }, (_, i) => new Recorder(`w${i}`, log));
    for (const w of waiters) hub.add(w);
    expect([hub.size, getEventListeners(controller.signal, 'abort').length]).toEqual([20, 1]);
    for (const w of waiters) hub.delete(w);
    expect(hub.size).toBe(0);
    expect(await listenersAfterTurn(controller.signal)).toBe(0);
  });

  it('tells every waiter once, oldest first, each after it left; a waiter leaving during the dispatch is not told', () => {
    const controller = new AbortController();
    const hub = signalHub(controller.signal);
    const log: string[] = [];
    const c = new Recorder('c', log);
    const a = new Recorder('a', log, () => hub.delete(c));
    const b = new Recorder('b', log, () => {
      log.push(`b sees size ${hub.size}`);
      hub.delete(b); // already out: nothing happens
    });
    hub.add(a);
    hub.add(b);
    hub.add(c);
    controller.abort('why');
    expect(log).toEqual(['a:why', 'b:why', 'b sees size 0']);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('tells a waiter joining an aborted signal at once, adding no listener', () => {
    const signal = AbortSignal.abort('late');
    const log: string[] = [];
    signalHub(signal).add(new Recorder('x', log));
    expect(log).toEqual(['x:late']);
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
  });

  it('keeps its listener across calls in one turn and removes it on the next turn when none rejoined', async () => {
    const controller = new AbortController();
    const hub = signalHub(controller.signal);
    const log: string[] = [];
    const w = new Recorder('w', log);
    for (let i = 0; i < 100_000; i++) {
      hub.add(w);
      hub.delete(w);
    }
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    expect(await listenersAfterTurn(controller.signal)).toBe(0);
    hub.add(w); // joins again after the removal: listens again
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    controller.abort('now');
    expect(log).toEqual(['w:now']);
  });

  it('does not remove the listener on the next turn when a waiter joined again meanwhile', async () => {
    const controller = new AbortController();
    const hub = signalHub(controller.signal);
    const log: string[] = [];
    const w = new Recorder('w', log);
    hub.add(w);
    hub.delete(w);
    hub.add(w);
    expect(await listenersAfterTurn(controller.signal)).toBe(1);
    controller.abort('still heard');
    expect(log).toEqual(['w:still heard']);
  });

  it('still tells the others when a waiter throws, and reports the error as an uncaught exception would be', async () => {
    const controller = new AbortController();
    const hub = signalHub(controller.signal);
    const log: string[] = [];
    const boom = new Error('waiter bug');
    hub.add(
      new Recorder('a', log, () => {
        throw boom;
      }),
    );
    hub.add(new Recorder('b', log));
    const reported: unknown[] = [];
    const original = globalThis.queueMicrotask;
    globalThis.queueMicrotask = (task) => {
      try {
        task();
      } catch (err) {
        reported.push(err);
      }
    };
    try {
      controller.abort('x');
    } finally {
      globalThis.queueMicrotask = original;
    }
    expect(log).toEqual(['a:x', 'b:x']);
    expect(reported).toEqual([boom]);
  });

  it('removes the listener of a signal used once at once', () => {
    const controller = new AbortController();
    const hub = signalHub(controller.signal);
    const w = new Recorder('w', []);
    hub.add(w);
    hub.delete(w);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('holds at most 1024 emptied hubs for the next turn: a loop over many reused signals does not pile them up', async () => {
    const log: string[] = [];
    const controllers = Array.from({ length: 5000 }, () => new AbortController());
    for (const controller of controllers) {
      const hub = signalHub(controller.signal);
      const w = new Recorder('w', log);
      for (let use = 0; use < 2; use++) {
        hub.add(w);
        hub.delete(w);
      }
    }
    const listening = controllers.filter((c) => getEventListeners(c.signal, 'abort').length > 0).length;
    expect(listening).toBeLessThanOrEqual(1024);
    expect(listening).toBeGreaterThan(0);
    await new Promise((resolve) => setImmediate(resolve));
    expect(controllers.filter((c) => getEventListeners(c.signal, 'abort').length > 0)).toHaveLength(0);
  });

  it('stays silent with 50,000 waiters on one signal', async () => {
    const warnings = captureWarnings();
    const controller = new AbortController();
    const hub = signalHub(controller.signal);
    const log: string[] = [];
    for (let i = 0; i < 50_000; i++) hub.add(new Recorder('w', log));
    controller.abort('all');
    expect(log).toHaveLength(50_000);
    expect(hub.size).toBe(0);
    expect((await warnings.stop()).map((w) => w.name)).toEqual([]);
  });
});
