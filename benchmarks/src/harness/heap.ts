import { collectGarbage } from './gc-watch.js';
import { summarize } from './stats.js';
import type { InstanceResult } from './types.js';

/**
 * Heap retained per instance: after a full GC, create `instances` objects
 * into a preallocated array, GC again and divide the growth of heapUsed.
 * The array's own slots exist before the first reading, so they are not counted.
 * `dispose` (when given) releases each instance after its round (timers and the like).
 */
export function measureInstances(
  create: () => unknown,
  instances: number,
  rounds: number,
  dispose?: (instance: unknown) => void,
): InstanceResult {
  // Warm the constructor (and any lazily created shared state) first.
  const warm: unknown[] = [];
  for (let i = 0; i < Math.min(instances, 256); i++) warm.push(create());
  if (dispose !== undefined) for (const instance of warm) dispose(instance);
  warm.length = 0;
  const perInstance: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const keep: unknown[] = new Array(instances).fill(null);
    collectGarbage();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < instances; i++) keep[i] = create();
    collectGarbage();
    const after = process.memoryUsage().heapUsed;
    perInstance.push((after - before) / instances);
    if (dispose !== undefined) for (const instance of keep) dispose(instance);
  }
  return { kind: 'instance', instances, bytesPerInstance: summarize(perInstance) };
}
