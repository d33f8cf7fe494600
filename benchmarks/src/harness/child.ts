/**
 * The child process of one subject: `node --expose-gc child.js <registry> <scenario> <subject> <options>`.
 * It loads only that subject's library, measures it against the baseline in
 * this same process, and reports over IPC. A server subject listens, reports
 * its port and waits for `stop`.
 */
import type { ScenarioDef, SubjectDef } from '../scenarios/types.js';
import { measureInstances } from './heap.js';
import { measureLatency } from './measure.js';
import type { ChildMessage, MeasureOptions } from './types.js';

interface Registry {
  findSubject(scenarioId: string, subjectId: string): { scenario: ScenarioDef; subject: SubjectDef };
}

function send(message: ChildMessage): Promise<void> {
  return new Promise((resolve, reject) => {
    if (process.send === undefined) {
      reject(new Error('benchmarks: child.js must be started with an IPC channel (fork)'));
      return;
    }
    process.send(message, undefined, {}, (error) => (error ? reject(error) : resolve()));
  });
}

async function measure(
  registryUrl: string,
  scenarioId: string,
  subjectId: string,
  options: MeasureOptions,
): Promise<void> {
  const registry = (await import(registryUrl)) as Registry;
  const { scenario, subject } = registry.findSubject(scenarioId, subjectId);
  const prepared = await subject.setup();
  switch (prepared.kind) {
    case 'unavailable':
      await send({ status: 'unavailable', reason: prepared.reason });
      return;
    case 'op': {
      if (scenario.baseline === undefined) throw new Error(`benchmarks: scenario ${scenario.id} has no baseline`);
      const result = await measureLatency(prepared.op, scenario.baseline(), options);
      await send({ status: 'ok', result });
      return;
    }
    case 'instance':
      await send({
        status: 'ok',
        result: measureInstances(prepared.create, options.instances, options.rounds, prepared.dispose),
      });
      return;
    case 'server': {
      const server = await prepared.listen();
      const stopped = new Promise<void>((resolve) => process.once('message', () => resolve()));
      await send({ status: 'listening', port: server.port });
      await stopped;
      return;
    }
  }
}

const [registryUrl, scenarioId, subjectId, optionsJson] = process.argv.slice(2);
if (registryUrl === undefined || scenarioId === undefined || subjectId === undefined || optionsJson === undefined) {
  console.error('usage: child.js <registry-url> <scenario> <subject> <options-json>');
  process.exit(2);
}
try {
  await measure(registryUrl, scenarioId, subjectId, JSON.parse(optionsJson) as MeasureOptions);
} catch (error) {
  await send({ status: 'failed', reason: error instanceof Error ? (error.stack ?? error.message) : String(error) });
}
// Some libraries leave timers behind (opossum's call timeout is not unref'd): leave now.
process.exit(0);
