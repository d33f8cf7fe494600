import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { listenersAfterTurn } from '../../test/waits-support.js';
import { IntrusiveList } from './intrusive-list.js';
import { signalHub } from './signal-hub.js';
import { QueuedWaiter } from './waiter.js';

/** The smallest queue policy: FIFO, an aborted waiter leaves its list and rejects. */
class Entry extends QueuedWaiter<Entry, string> {
  readonly list: IntrusiveList<Entry>;
  constructor(list: IntrusiveList<Entry>, resolve: (value: string) => void, reject: (reason: unknown) => void) {
    super(resolve, reject);
    this.list = list;
  }
  signalAborted(reason: unknown): void {
    this.list.remove(this);
    this.reject(reason);
  }
}

function queue(list: IntrusiveList<Entry>, signal?: AbortSignal): { entry: Entry; promise: Promise<string> } {
  let entry: Entry | undefined;
  const promise = new Promise<string>((resolve, reject) => {
    entry = new Entry(list, resolve, reject);
  });
  const e = entry as Entry;
  list.push(e);
  if (signal !== undefined) e.listen(signalHub(signal));
  return { entry: e, promise };
}

describe('QueuedWaiter', () => {
  it('is a node of its list and of its signal hub at once; an abort takes it out and rejects with the reason', async () => {
    const list = new IntrusiveList<Entry>();
    const controller = new AbortController();
    const a = queue(list, controller.signal);
    const b = queue(list, controller.signal);
    const c = queue(list);
    expect([list.size, signalHub(controller.signal).size]).toEqual([3, 2]);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    controller.abort(new Error('gone'));
    await expect(a.promise).rejects.toThrow('gone');
    await expect(b.promise).rejects.toThrow('gone');
    expect([...list]).toEqual([c.entry]);
    // Already out of the hub: leaving again does nothing.
    a.entry.unlisten();
    expect(signalHub(controller.signal).size).toBe(0);
  });

  it('unlisten() when served leaves the hub (the last one out removes the listener); with no hub it does nothing', async () => {
    const list = new IntrusiveList<Entry>();
    const controller = new AbortController();
    const a = queue(list, controller.signal);
    const b = queue(list);
    for (let head = list.shift(); head !== null; head = list.shift()) {
      head.unlisten();
      head.resolve('served');
    }
    await expect(a.promise).resolves.toBe('served');
    await expect(b.promise).resolves.toBe('served');
    expect([a.entry.hub?.size, b.entry.hub]).toEqual([0, null]);
    expect(await listenersAfterTurn(controller.signal)).toBe(0);
    controller.abort('late');
    expect(list.size).toBe(0);
  });

  it('joining an already aborted signal leaves at once', async () => {
    const list = new IntrusiveList<Entry>();
    const { promise } = queue(list, AbortSignal.abort('before'));
    await expect(promise).rejects.toBe('before');
    expect(list.size).toBe(0);
  });
});
