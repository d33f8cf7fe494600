import { accessSync, constants, createWriteStream, openSync, statSync, type WriteStream, writeFileSync } from 'node:fs';
import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createGateway } from './gateway.js';
import { renderHtmlReport } from './html-report.js';
import { jsonLogger } from './log.js';
import { evaluate, type RunRecord, summary, type Transition } from './report.js';
import { SeriesRecorder } from './series.js';
import { buildTimeline, PHASE_NAMES, type PhaseName, parsePhases, phaseAt } from './timeline.js';
import { emptyTally, OUTCOMES, type Outcome, type Tally, TrafficGenerator } from './traffic.js';
import { startUpstream } from './upstream.js';
import { LiveView } from './view.js';

const HELP = `Usage: pnpm demo [-- options]

Starts a gateway guarded by every @resilience pattern in front of a flaky
upstream (both on loopback), drives traffic through a scripted fault timeline
and shows, second by second, what the patterns do. Ends with a summary; the
exit code is 1 when the patterns did not behave as expected.

Options:
  --duration <seconds>  length of the whole run, at least 5       (default 30)
  --port <port>         port of the gateway, 0 for any free one     (default 0)
  --phases <list>       phases to run, comma-separated, in order
                        (default ${PHASE_NAMES.join(',')})
  --logs <file>         write the gateway's structured logs (JSON lines) there
  --report <file>       where to write the HTML report with the charts
                        (default demo-report.html)
  -h, --help            show this help

Phases: healthy (all is well), failing (every upstream answer a 500: the
breaker opens), slow (2 s answers: timeouts), recovery (the breaker closes
again), spike (one greedy client gets 429s from the rate limiter while a
crowd of 10 more, each from its own loopback address, fills the bulkhead,
which sheds the excess).
`;

interface Options {
  readonly durationMs: number;
  readonly port: number;
  readonly phases: PhaseName[];
  /** The log file, opened for writing while the options were read (so a bad path is an option error). */
  readonly logs: { readonly path: string; readonly fd: number } | undefined;
  /** The absolute path of the HTML report. */
  readonly report: string;
}

/** A problem with what the user asked for: reported with a hint to `--help`, exit code 2. */
class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Whether `err` is about the options: ours, `parsePhases`'s `RangeError`s, or `parseArgs`'s own. */
function isUsageError(err: unknown): boolean {
  if (err instanceof UsageError || err instanceof RangeError) return true;
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_');
}

/** Opens `path` for the gateway's logs, or throws a {@link UsageError} saying why it cannot. */
function openLogs(path: string): { path: string; fd: number } {
  try {
    return { path, fd: openSync(path, 'w') };
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new UsageError(`--logs: cannot write to ${path} (${reason})`);
  }
}

/** The absolute path of the report, or a {@link UsageError} when it cannot be written there. */
function reportPath(path: string): string {
  const absolute = resolve(path);
  let reason: string | undefined;
  try {
    if (statSync(absolute, { throwIfNoEntry: false })?.isDirectory()) reason = 'it is a directory';
    else accessSync(dirname(absolute), constants.W_OK);
  } catch (err) {
    reason = err instanceof Error ? err.message : String(err);
  }
  if (reason !== undefined) throw new UsageError(`--report: cannot write to ${path} (${reason})`);
  return absolute;
}

function options(argv: string[]): Options | undefined {
  const { values } = parseArgs({
    args: argv.filter((a) => a !== '--'),
    options: {
      duration: { type: 'string', default: '30' },
      port: { type: 'string', default: '0' },
      phases: { type: 'string', default: PHASE_NAMES.join(',') },
      logs: { type: 'string' },
      report: { type: 'string', default: 'demo-report.html' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return undefined;
  const duration = Number(values.duration);
  if (!Number.isFinite(duration) || duration < 5)
    throw new UsageError(`--duration must be >= 5, got ${values.duration}`);
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new UsageError(`--port must be 0-65535, got ${values.port}`);
  const phases = parsePhases(values.phases);
  const report = reportPath(values.report);
  // Opened last, so no other option error can leave it open.
  const logs = values.logs === undefined ? undefined : openLogs(values.logs);
  return { durationMs: duration * 1000, port, phases, logs, report };
}

/** A stream for the log file, or `undefined`; a write error later is reported once and ends the logging. */
function logStream(logs: Options['logs']): WriteStream | undefined {
  if (logs === undefined) return undefined;
  const stream = createWriteStream(logs.path, { fd: logs.fd });
  stream.once('error', (err) => {
    console.error(`--logs: writing to ${logs.path} failed (${err.message}); logging stops`);
  });
  return stream;
}

/**
 * The loopback addresses the crowd sends from, 127.0.0.2 on: every one of
 * 127.0.0.0/8 answers on Linux, but macOS has only 127.0.0.1 unless aliased
 * (`sudo ifconfig lo0 alias 127.0.0.2 up`, and so on). When the first cannot
 * be bound the crowd sends from the default address and a note says why.
 */
async function crowdAddresses(count: number): Promise<string[]> {
  if (count === 0) return [];
  const addresses = Array.from({ length: count }, (_, i) => `127.0.0.${i + 2}`);
  const probe = http.createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen(0, addresses[0], resolve);
    });
    return addresses;
  } catch {
    console.log(
      `Note: ${addresses[0]} is not a local address here (macOS: sudo ifconfig lo0 alias ${addresses[0]} up, up to 127.0.0.${count + 1}), ` +
        "so the crowd shares the main client's address and rate limit, and the bulkhead may not shed.\n",
    );
    return [];
  } finally {
    probe.close();
  }
}

/** Listens on `port` on loopback; a port in use (or not allowed) is a {@link UsageError}. */
async function listen(server: Server, port: number): Promise<void> {
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
      server.listen(port, '127.0.0.1');
    });
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'EADDRINUSE') {
      throw new UsageError(`--port ${port}: the port is in use; choose another, or 0 for any free one`);
    }
    if (code === 'EACCES') throw new UsageError(`--port ${port}: not allowed to listen on this port`);
    throw err;
  }
}

async function run(opts: Options): Promise<boolean> {
  const timeline = buildTimeline(opts.phases, opts.durationMs);
  const recovery = timeline.find((p) => p.name === 'recovery');
  const breakerOpenTime = Math.min(2000, Math.max(200, recovery ? (recovery.endMs - recovery.startMs) / 4 : 1000));
  const logFile = logStream(opts.logs);
  const logger = jsonLogger((line) => (logFile?.writable ? logFile.write(line) : undefined), { service: 'gateway' });
  const closeLogs = (): Promise<void> =>
    new Promise<void>((resolve) => {
      if (logFile?.writable) {
        logFile.end(resolve);
      } else {
        logFile?.destroy();
        resolve();
      }
    });

  const started = performance.now();
  const elapsed = (): number => performance.now() - started;
  const transitions: Transition[] = [];
  let recent: string[] = [];

  const upstream = await startUpstream(0);
  const series = new SeriesRecorder(opts.durationMs, 'closed');
  const gateway = createGateway({
    upstreamUrl: upstream.url,
    logger,
    breakerOpenTime,
    onBreakerChange: (from, to) => {
      transitions.push({ atMs: elapsed(), phase: phaseAt(timeline, elapsed()).name, from, to });
      series.transition(elapsed(), to);
      recent.push(`${from}→${to}`);
    },
  });
  const server = http.createServer(gateway.app);
  try {
    await listen(server, opts.port);
  } catch (err) {
    // Stop what was started, or the upstream keeps the process alive.
    await upstream.close();
    await closeLogs();
    throw err;
  }
  const { port } = server.address() as AddressInfo;

  const tallies = new Map<PhaseName, Tally>(timeline.map((p) => [p.name, emptyTally()]));
  const stateAtEnd = new Map<PhaseName, string>();
  const peakLoad = new Map<PhaseName, { active: number; queued: number }>(
    timeline.map((p) => [p.name, { active: 0, queued: 0 }]),
  );
  const total = emptyTally();
  let second = emptyTally();
  // An answer counts in the phase its request was sent in (an answer that takes 500 ms belongs to the
  // conditions it was sent into); the live view counts answers in the second they arrive.
  const onAnswer = (outcome: Outcome, sentAt: number): void => {
    const tally = tallies.get(phaseAt(timeline, sentAt - started).name) as Tally;
    tally[outcome]++;
    total[outcome]++;
    second[outcome]++;
    const now = performance.now();
    series.answer(now - started, outcome, now - sentAt);
  };
  const url = `http://127.0.0.1:${port}/api/quote`;
  const traffic = new TrafficGenerator(url, onAnswer);
  // The crowd: other clients, each from its own loopback address, so each has its own rate limit.
  const crowdSize = Math.max(0, ...timeline.map((p) => p.crowd?.clients ?? 0));
  const crowd = new TrafficGenerator(url, onAnswer, await crowdAddresses(crowdSize));
  const crowdRate = (phase: (typeof timeline)[number]): number =>
    phase.crowd === undefined ? 0 : phase.crowd.clients * phase.crowd.rate;

  // GET /health once a frame, as a readiness probe would: 503 while the critical breaker is open.
  let health = '…';
  const probeHealth = (): void => {
    fetch(`http://127.0.0.1:${port}/health`)
      .then(async (res) => {
        health = `${res.status} ${((await res.json()) as { status: string }).status}`;
      })
      .catch(() => {});
  };

  const view = new LiveView(process.stdout);
  console.log(
    `Gateway http://127.0.0.1:${port}/api/quote in front of ${upstream.url}; ${timeline.length} phases over ${opts.durationMs / 1000} s.\n` +
      `Prometheus metrics: http://127.0.0.1:${port}/metrics (scrape it while the demo runs).\n`,
  );
  let current = timeline[0] as (typeof timeline)[number];
  upstream.setMode(current.upstream);
  traffic.setRate(current.rate);
  crowd.setRate(crowdRate(current));
  traffic.start();
  crowd.start();

  await new Promise<void>((resolve) => {
    let nextFrame = 1000;
    let nextProbe = 800; // shortly before each frame, so the frame shows a fresh answer
    const tick = setInterval(() => {
      const now = elapsed();
      const phase = phaseAt(timeline, now);
      const peak = peakLoad.get(phase.name) as { active: number; queued: number };
      peak.active = Math.max(peak.active, gateway.bulkhead.active);
      peak.queued = Math.max(peak.queued, gateway.bulkhead.queued);
      series.load(now, gateway.bulkhead.active, gateway.bulkhead.queued);
      if (phase !== current || now >= opts.durationMs) stateAtEnd.set(current.name, gateway.breaker.state);
      if (phase !== current) {
        current = phase;
        upstream.setMode(phase.upstream);
        traffic.setRate(phase.rate);
        crowd.setRate(crowdRate(phase));
      }
      if (now >= nextProbe) {
        nextProbe += 1000;
        probeHealth();
      }
      if (now >= nextFrame || now >= opts.durationMs) {
        nextFrame += 1000;
        view.render({
          elapsedMs: Math.min(now, opts.durationMs),
          durationMs: opts.durationMs,
          phase,
          phaseCount: timeline.length,
          second,
          total,
          breakerState: gateway.breaker.state,
          transitions: recent,
          bulkheadActive: gateway.bulkhead.active,
          bulkheadQueued: gateway.bulkhead.queued,
          bulkheadMax: gateway.maxConcurrent,
          health,
        });
        second = emptyTally();
        recent = [];
      }
      if (now >= opts.durationMs) {
        clearInterval(tick);
        resolve();
      }
    }, 50);
  });

  await Promise.all([traffic.stop(), crowd.stop()]);
  view.finish();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await upstream.close();
  await closeLogs();

  const record: RunRecord = { timeline, tallies, transitions, stateAtEnd, peakLoad, durationMs: elapsed() };
  const checks = evaluate(record);
  process.stdout.write(summary(record, checks, process.stdout.isTTY === true && !('NO_COLOR' in process.env)));
  const html = renderHtmlReport({
    series: series.data(timeline, gateway.maxConcurrent, gateway.bulkhead.maxQueue),
    generatedAt: new Date().toISOString(),
    phaseTallies: timeline.map((p) => {
      const tally = tallies.get(p.name) as Tally;
      return { name: p.name, counts: Object.fromEntries(OUTCOMES.map((o) => [o, tally[o]])) as Tally };
    }),
    checks,
  });
  try {
    writeFileSync(opts.report, html);
  } catch (err) {
    console.error(`--report: writing ${opts.report} failed (${err instanceof Error ? err.message : String(err)})`);
    return false;
  }
  process.stdout.write(`Report: ${opts.report} (open it in a browser: charts of every second of the run)\n`);
  return checks.every((c) => c.passed);
}

try {
  const opts = options(process.argv.slice(2));
  if (opts === undefined) {
    process.stdout.write(HELP);
  } else {
    const ok = await run(opts);
    process.exitCode = ok ? 0 : 1;
  }
} catch (err) {
  // Exit 2: the run could not start (bad options, a port in use, a log file that cannot be written).
  console.error(err instanceof Error ? err.message : err);
  if (isUsageError(err)) console.error('Run with --help for the options.');
  process.exitCode = 2;
}
