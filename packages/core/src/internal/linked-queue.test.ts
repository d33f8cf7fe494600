import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LinkedQueue, type LinkedQueueNode } from './linked-queue.js';

describe('LinkedQueue', () => {
  it('is FIFO', () => {
    const queue = new LinkedQueue<number>();
    expect(queue.shift()).toBeUndefined();
    expect(queue.peek()).toBeUndefined();
    expect(queue.peekNode()).toBeUndefined();
    queue.push(1);
    queue.push(2);
    queue.push(3);
    expect(queue.size).toBe(3);
    expect(queue.peek()).toBe(1);
    expect(queue.peekNode()?.value).toBe(1);
    expect(queue.shift()).toBe(1);
    expect([...queue]).toEqual([2, 3]);
    expect(queue.shift()).toBe(2);
    expect(queue.shift()).toBe(3);
    expect(queue.size).toBe(0);
    expect(queue.shift()).toBeUndefined();
  });

  it('removes the head, the tail and the middle, once', () => {
    const queue = new LinkedQueue<string>();
    const a = queue.push('a');
    const b = queue.push('b');
    const c = queue.push('c');
    const d = queue.push('d');
    expect(queue.remove(b)).toBe(true);
    expect(queue.remove(b)).toBe(false);
    expect([...queue]).toEqual(['a', 'c', 'd']);
    expect(queue.remove(a)).toBe(true);
    expect(queue.remove(d)).toBe(true);
    expect([...queue]).toEqual(['c']);
    expect(queue.remove(c)).toBe(true);
    expect(queue.size).toBe(0);
    expect([...queue]).toEqual([]);
    queue.push('e');
    expect([...queue]).toEqual(['e']);
  });

  it('refuses a node of another queue or one already shifted', () => {
    const one = new LinkedQueue<number>();
    const two = new LinkedQueue<number>();
    const node = one.push(1);
    expect(two.remove(node)).toBe(false);
    expect(one.shift()).toBe(1);
    expect(one.remove(node)).toBe(false);
    expect(node.owner).toBeNull();
  });

  it('clears every entry and detaches the nodes', () => {
    const queue = new LinkedQueue<number>();
    const nodes = [queue.push(1), queue.push(2)];
    queue.clear();
    expect(queue.size).toBe(0);
    expect(nodes.map((n) => queue.remove(n))).toEqual([false, false]);
    queue.push(3);
    expect([...queue]).toEqual([3]);
  });

  it('matches an array model under any sequence of push, shift and remove', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('push' as const) }),
      fc.record({ kind: fc.constant('shift' as const) }),
      fc.record({ kind: fc.constant('remove' as const), index: fc.nat(20) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const queue = new LinkedQueue<number>();
        const model: { value: number; node: LinkedQueueNode<number> }[] = [];
        let counter = 0;
        for (const step of ops) {
          if (step.kind === 'push') {
            const value = counter++;
            model.push({ value, node: queue.push(value) });
          } else if (step.kind === 'shift') {
            expect(queue.shift()).toBe(model.shift()?.value);
          } else if (model.length > 0) {
            const [entry] = model.splice(step.index % model.length, 1);
            expect(queue.remove(entry?.node as LinkedQueueNode<number>)).toBe(true);
          }
          expect(queue.size).toBe(model.length);
          expect([...queue]).toEqual(model.map((m) => m.value));
        }
      }),
    );
  });
});
