/**
 * `pnpm bench [--quick] [--only=<scenario|prefix*,…>] [--no-write]`: runs every
 * scenario, each subject in its own child process, then writes
 * `docs/benchmarks.md`, its growth plot, the README table and `benchmarks/results/latest.json`.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { runHttpScenario } from './harness/http.js';
import { nodeBinary, nodeVersion } from './harness/node-binary.js';
import { CHILD_FLAGS, runInChild } from './harness/spawn.js';
import type { MeasureOptions, SubjectOutcome } from './harness/types.js';
import { GROWTH_SVG, renderGrowthPlot } from './report/growth-svg.js';
import { gitRevision, installedName, installedVersion, loadAverage, machineInfo } from './report/machine.js';
import { renderMarkdown } from './report/markdown.js';
import type { BenchReport, ScenarioReport, SubjectReport } from './report/model.js';
import { renderReadmeTable, replaceRegion } from './report/readme.js';
import { type ScenarioDef, scenarios, selectScenarios } from './scenarios/index.js';

const FULL: MeasureOptions = {
  warmupMs: 500,
  rounds: 15,
  roundMs: 150,
  byteBatches: 10,
  instances: 5000,
  httpSeconds: 2,
  httpRounds: 5,
};
const QUICK: MeasureOptions = {
  warmupMs: 150,
  rounds: 5,
  roundMs: 30,
  byteBatches: 4,
  instances: 1000,
  httpSeconds: 1,
  httpRounds: 2,
};

const packageRoot = new URL('../', import.meta.url);
const repoRoot = new URL('../', packageRoot);

function parseArgs(argv: readonly string[]): {
  quick: boolean;
  only: string[] | undefined;
  write: boolean;
  render: boolean;
} {
  let render = false;
  let quick = false;
  let only: string[] | undefined;
  let write = true;
  for (const arg of argv) {
    if (arg === '--quick') quick = true;
    else if (arg === '--no-write') write = false;
    else if (arg === '--render') render = true;
    else if (arg.startsWith('--only=')) only = arg.slice('--only='.length).split(',');
    else if (arg !== '--')
      throw new Error(`bench: unknown argument ${arg} (use --quick, --only=<ids>, --no-write, --render)`);
  }
  return { quick, only, write, render };
}

/** `v22.…` of Node `major` from the runtime cache, or `<major> (not installed)` when it cannot be had. */
function nodeOf(major: number): string {
  try {
    return nodeVersion(nodeBinary(major));
  } catch {
    return `${major} (not installed)`;
  }
}

/** The version of every library measured, and the Node.js versions its children ran on. */
function versions(chosen: readonly ScenarioDef[]): Record<string, string> {
  const nodes = new Map<string, Set<string>>();
  for (const subject of chosen.flatMap((s) => s.subjects)) {
    const node = subject.node === undefined ? process.version : nodeOf(subject.node);
    nodes.set(subject.library, (nodes.get(subject.library) ?? new Set()).add(node));
  }
  const found: Record<string, string> = {};
  const revision = gitRevision(repoRoot);
  for (const name of [...nodes.keys()].sort()) {
    // Rows of Node itself (the clock read alone): its version is the machine table's.
    if (name === 'node') continue;
    const version = installedVersion(packageRoot, name);
    const built = name.startsWith('@resilience/') ? ` (built from ${revision})` : '';
    // A release installed under an alias (`cockatiel-4` is `npm:cockatiel@4.0.0`) is named as the registry names it.
    const real = installedName(packageRoot, name);
    const key = real === name ? name : `${real} (installed as ${name})`;
    found[key] = `${version}${built}, on Node ${[...(nodes.get(name) ?? [])].sort().join(' and ')}`;
  }
  return found;
}

/** One child after another: a measurement never shares the CPU with another of ours. */
async function runEach(scenario: ScenarioDef, measure: MeasureOptions): Promise<SubjectOutcome[]> {
  const outcomes: SubjectOutcome[] = [];
  for (const subject of scenario.subjects) {
    let execPath: string | undefined;
    try {
      execPath = subject.node === undefined ? undefined : nodeBinary(subject.node);
    } catch (error) {
      // No Node of that major (offline, registry down): this row fails with the reason, the run goes on.
      outcomes.push({ status: 'failed', reason: `Node ${subject.node} could not be installed: ${String(error)}` });
      continue;
    }
    outcomes.push(await runInChild(scenario.id, subject.id, measure, execPath === undefined ? {} : { execPath }));
  }
  return outcomes;
}

/** Writes the doc, the README table and the raw JSON (or prints the doc). */
function publish(report: BenchReport, write: boolean): void {
  const markdown = renderMarkdown(report);
  if (!write) {
    console.log(markdown);
    return;
  }
  mkdirSync(new URL('docs/', repoRoot), { recursive: true });
  writeFileSync(new URL('docs/benchmarks.md', repoRoot), markdown);
  writeFileSync(new URL(GROWTH_SVG, repoRoot), renderGrowthPlot(report));
  const readmeUrl = new URL('README.md', repoRoot);
  writeFileSync(readmeUrl, replaceRegion(readFileSync(readmeUrl, 'utf8'), renderReadmeTable(report)));
  mkdirSync(new URL('results/', packageRoot), { recursive: true });
  writeFileSync(new URL('results/latest.json', packageRoot), `${JSON.stringify(report, null, 2)}\n`);
  console.log(`wrote docs/benchmarks.md, ${GROWTH_SVG}, the README table and benchmarks/results/latest.json`);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.render) {
    // Re-renders the last run's numbers (after a change to the report's text), measuring nothing.
    publish(JSON.parse(readFileSync(new URL('results/latest.json', packageRoot), 'utf8')) as BenchReport, args.write);
    return;
  }
  const measure = args.quick ? QUICK : FULL;
  const chosen = args.only === undefined ? scenarios : selectScenarios(args.only);
  if (chosen.length === 0) throw new Error(`bench: no scenario matches --only=${args.only?.join(',')}`);
  const started = Date.now();
  const loadAtStart = loadAverage();
  const reports: ScenarioReport[] = [];
  for (const scenario of chosen) {
    const outcomes =
      scenario.kind === 'http'
        ? await runHttpScenario(scenario, measure, args.quick ? 0.5 : 1)
        : await runEach(scenario, measure);
    const subjects: SubjectReport[] = scenario.subjects.map((subject, i) => {
      const outcome = outcomes[i] as SubjectOutcome;
      const detail = outcome.status === 'ok' ? '' : ` — ${outcome.reason.split('\n')[0]}`;
      console.log(`  ${scenario.id} / ${subject.id}: ${outcome.status}${detail}`);
      const node = subject.node === undefined ? {} : { node: nodeOf(subject.node) };
      return {
        id: subject.id,
        label: subject.label,
        library: subject.library,
        ...node,
        ...(subject.component === true ? { component: true } : {}),
        outcome,
      };
    });
    reports.push({
      id: scenario.id,
      title: scenario.title,
      kind: scenario.kind,
      config: scenario.config,
      baselineLabel: scenario.baselineLabel,
      ...(scenario.baselineSubject === undefined ? {} : { baselineSubject: scenario.baselineSubject }),
      targets: scenario.targets,
      subjects,
      ...(scenario.growth === undefined ? {} : { growth: scenario.growth }),
    });
  }
  const report: BenchReport = {
    date: new Date().toISOString(),
    quick: args.quick,
    machine: machineInfo(loadAtStart),
    versions: versions(chosen),
    childFlags: CHILD_FLAGS,
    settings: { ...measure },
    scenarios: reports,
  };
  publish(report, args.write);
  console.log(`bench: ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

await main();
