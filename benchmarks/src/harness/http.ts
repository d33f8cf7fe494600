import autocannon from 'autocannon';
import type { ScenarioDef } from '../scenarios/types.js';
import { runInChild, type SpawnOptions } from './spawn.js';
import { summarize } from './stats.js';
import type { HttpResult, MeasureOptions, SubjectOutcome } from './types.js';

/** Concurrent connections autocannon keeps open. */
export const HTTP_CONNECTIONS = 10;

function load(port: number, seconds: number): Promise<autocannon.Result> {
  return autocannon({
    url: `http://127.0.0.1:${port}/`,
    connections: HTTP_CONNECTIONS,
    duration: seconds,
    pipelining: 1,
  });
}

/** Summarises the rounds of one server: medians over rounds, totals of requests and failures. */
export function summarizeRounds(rounds: readonly autocannon.Result[]): HttpResult {
  const perSecond = rounds.map((r) => r.requests.total / Math.max(r.duration, 1e-9));
  return {
    kind: 'http',
    requestsPerSecond: summarize(perSecond),
    meanRequestsPerSecond: summarize(perSecond).median,
    latencyMeanMs: summarize(rounds.map((r) => r.latency.average)).median,
    latencyP99Ms: summarize(rounds.map((r) => r.latency.p99)).median,
    requests: rounds.reduce((sum, r) => sum + r.requests.total, 0),
    non2xx: rounds.reduce((sum, r) => sum + r.non2xx, 0),
    errors: rounds.reduce((sum, r) => sum + r.errors, 0),
  };
}

interface Server {
  readonly id: string;
  port: number | undefined;
  finish: ((outcome: SubjectOutcome) => void) | undefined;
  readonly done: Promise<SubjectOutcome>;
}

/**
 * Starts every server variant of `scenario`, each in its own child, then
 * loads them in interleaved rounds (the order rotating each round) so that
 * noise from other work on the machine falls on all of them alike.
 */
export async function runHttpScenario(
  scenario: ScenarioDef,
  measure: MeasureOptions,
  warmupSeconds: number,
  spawn: SpawnOptions = {},
): Promise<SubjectOutcome[]> {
  const servers: Server[] = [];
  const ready: Promise<void>[] = [];
  for (const subject of scenario.subjects) {
    let markReady = (): void => {};
    ready.push(new Promise<void>((resolve) => (markReady = resolve)));
    const server: Server = {
      id: subject.id,
      port: undefined,
      finish: undefined,
      done: runInChild(scenario.id, subject.id, measure, {
        ...spawn,
        onListening: (port) => {
          server.port = port;
          markReady();
          return new Promise<SubjectOutcome>((resolve) => (server.finish = resolve));
        },
      }),
    };
    void server.done.finally(markReady);
    servers.push(server);
  }
  await Promise.all(ready);
  const live = servers.filter((s) => s.port !== undefined);
  const results = new Map<string, autocannon.Result[]>(live.map((s) => [s.id, []]));
  try {
    for (const server of live) await load(server.port as number, warmupSeconds);
    for (let round = 0; round < measure.httpRounds; round++) {
      for (let i = 0; i < live.length; i++) {
        const server = live[(round + i) % live.length] as Server;
        results.get(server.id)?.push(await load(server.port as number, measure.httpSeconds));
      }
    }
    for (const server of live) server.finish?.({ status: 'ok', result: summarizeRounds(results.get(server.id) ?? []) });
  } catch (error) {
    for (const server of live) server.finish?.({ status: 'failed', reason: String(error) });
  }
  return Promise.all(servers.map((s) => s.done));
}
