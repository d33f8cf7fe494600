import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IntrusiveList, type ListNode } from './intrusive-list.js';

class Item implements ListNode<Item> {
  listPrev: Item | null = null;
  listNext: Item | null = null;
  readonly value: number;

  constructor(value: number) {
    this.value = value;
  }
}

const values = (list: IntrusiveList<Item>): number[] => [...list].map((item) => item.value);
const items = (...vs: number[]): Item[] => vs.map((v) => new Item(v));

describe('IntrusiveList', () => {
  it('is FIFO, with the head and the tail in view', () => {
    const list = new IntrusiveList<Item>();
    expect(list.shift()).toBeNull();
    expect(list.first).toBeNull();
    expect(list.last).toBeNull();
    const [a, b, c] = items(1, 2, 3) as [Item, Item, Item];
    list.push(a);
    list.push(b);
    list.push(c);
    expect(list.size).toBe(3);
    expect(list.first).toBe(a);
    expect(list.last).toBe(c);
    expect(list.shift()).toBe(a);
    expect(a.listPrev).toBeNull();
    expect(a.listNext).toBeNull();
    expect(values(list)).toEqual([2, 3]);
    expect(list.shift()).toBe(b);
    expect(list.shift()).toBe(c);
    expect(list.size).toBe(0);
    expect(list.first).toBeNull();
    expect(list.last).toBeNull();
    expect(list.shift()).toBeNull();
  });

  it('removes the head, the tail and the middle, once', () => {
    const list = new IntrusiveList<Item>();
    const [a, b, c, d, e] = items(1, 2, 3, 4, 5) as [Item, Item, Item, Item, Item];
    for (const item of [a, b, c, d]) list.push(item);
    expect(list.remove(b)).toBe(true);
    expect(list.remove(b)).toBe(false);
    expect(values(list)).toEqual([1, 3, 4]);
    expect(list.remove(a)).toBe(true);
    expect(list.remove(d)).toBe(true);
    expect(values(list)).toEqual([3]);
    expect(list.has(c)).toBe(true);
    expect(list.remove(c)).toBe(true);
    expect(list.has(c)).toBe(false);
    expect(list.size).toBe(0);
    expect(values(list)).toEqual([]);
    list.push(e);
    expect(values(list)).toEqual([5]);
    expect([a, b, c, d].map((item) => [item.listPrev, item.listNext])).toEqual([
      [null, null],
      [null, null],
      [null, null],
      [null, null],
    ]);
  });

  it('refuses an element in no list, or already shifted', () => {
    const list = new IntrusiveList<Item>();
    const [a, b] = items(1, 2) as [Item, Item];
    expect(list.has(a)).toBe(false);
    expect(list.remove(a)).toBe(false);
    list.push(a);
    list.push(b);
    expect(list.shift()).toBe(a);
    expect(list.remove(a)).toBe(false);
    expect(list.has(b)).toBe(true);
    expect(list.size).toBe(1);
  });

  it('moves an element to the tail', () => {
    const list = new IntrusiveList<Item>();
    const [a, b, c] = items(1, 2, 3) as [Item, Item, Item];
    for (const item of [a, b, c]) list.push(item);
    list.moveToBack(c);
    expect(values(list)).toEqual([1, 2, 3]);
    list.moveToBack(a);
    expect(values(list)).toEqual([2, 3, 1]);
    expect(list.first).toBe(b);
    expect(list.last).toBe(a);
    list.moveToBack(c);
    expect(values(list)).toEqual([2, 1, 3]);
    expect(list.size).toBe(3);
  });

  it('clears every element and unlinks it', () => {
    const list = new IntrusiveList<Item>();
    const all = items(1, 2, 3);
    for (const item of all) list.push(item);
    list.clear();
    expect(list.size).toBe(0);
    expect(list.first).toBeNull();
    expect(all.map((item) => list.remove(item))).toEqual([false, false, false]);
    expect(all.every((item) => item.listPrev === null && item.listNext === null)).toBe(true);
    list.push(all[2] as Item);
    expect(values(list)).toEqual([3]);
  });

  it('matches an array model under any sequence of push, shift, remove and moveToBack', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('push' as const) }),
      fc.record({ kind: fc.constant('shift' as const) }),
      fc.record({ kind: fc.constant('remove' as const), index: fc.nat(20) }),
      fc.record({ kind: fc.constant('move' as const), index: fc.nat(20) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const list = new IntrusiveList<Item>();
        const model: Item[] = [];
        const gone: Item[] = [];
        let counter = 0;
        for (const step of ops) {
          if (step.kind === 'push') {
            const item = new Item(counter++);
            model.push(item);
            list.push(item);
          } else if (step.kind === 'shift') {
            const item = model.shift() ?? null;
            expect(list.shift()).toBe(item);
            if (item !== null) gone.push(item);
          } else if (model.length > 0) {
            const [item] = model.splice(step.index % model.length, 1) as [Item];
            if (step.kind === 'remove') {
              expect(list.remove(item)).toBe(true);
              gone.push(item);
            } else {
              list.moveToBack(item);
              model.push(item);
            }
          }
          expect(list.size).toBe(model.length);
          expect(list.first).toBe(model[0] ?? null);
          expect(list.last).toBe(model.at(-1) ?? null);
          expect([...list]).toEqual(model);
          for (const item of model) expect(list.has(item)).toBe(true);
          for (const item of gone) {
            expect(list.has(item)).toBe(false);
            expect(item.listPrev === null && item.listNext === null).toBe(true);
          }
        }
      }),
    );
  });
});
