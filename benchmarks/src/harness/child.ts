/**
 * The child process of one subject: `node --expose-gc child.js <registry> <scenario> <subject> [options]`.
 * Started by hand (no IPC channel) it prints its result, e.g. to profile one subject:
 * `node --expose-gc --cpu-prof dist/harness/child.js ./dist/scenarios/index.js breaker-closed ours`.
 * It loads only that subject's library, measures it against the baseline in
 * this same process, and reports over IPC. A server subject listens, reports
 * its port and waits for `stop`.
 */
import { pathToFileURL } from 'node:url';
import type { ScenarioDef, SubjectDef } from '../scenarios/types.js';
import { measureInstances } from './heap.js';
import { measureLatency } from './measure.js';
import type { ChildMessage, MeasureOptions } from './types.js';

interface Registry {
  findSubject(scenarioId: string, subjectId: string): { scenario: ScenarioDef; subject: SubjectDef };
}

/** Reports to the parent over IPC; started by hand (to profile one subject), prints the JSON instead. */
function send(message: ChildMessage): Promise<void> {
  return new Promise((resolve, reject) => {
    if (process.send === undefined) {
      console.log(JSON.stringify(message, null, 2));
      resolve();
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
      const result = await measureLatency(prepared.op, scenario.baseline(subject.id), options);
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

/** Settings when started by hand without options: long enough for a useful profile. */
const MANUAL: MeasureOptions = {
  warmupMs: 500,
  rounds: 10,
  roundMs: 300,
  byteBatches: 4,
  instances: 5000,
  httpSeconds: 2,
  httpRounds: 5,
};

const [registry, scenarioId, subjectId, optionsJson] = process.argv.slice(2);
if (registry === undefined || scenarioId === undefined || subjectId === undefined) {
  console.error('usage: child.js <registry-url-or-path> <scenario> <subject> [options-json]');
  process.exit(2);
}
try {
  const registryUrl = /^[a-z]+:/.test(registry) ? registry : pathToFileURL(registry).href;
  const options = optionsJson === undefined ? MANUAL : (JSON.parse(optionsJson) as MeasureOptions);
  await measure(registryUrl, scenarioId, subjectId, options);
} catch (error) {
  await send({ status: 'failed', reason: error instanceof Error ? (error.stack ?? error.message) : String(error) });
}
// Some libraries leave timers behind (opossum's call timeout is not unref'd): leave now.
process.exit(0);
