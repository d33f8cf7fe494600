/**
 * `pnpm bench [--quick] [--only=<scenario,…>] [--no-write]`: runs every
 * scenario, each subject in its own child process, then writes
 * `docs/benchmarks.md`, the README table and `benchmarks/results/latest.json`.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { runHttpScenario } from './harness/http.js';
import { CHILD_FLAGS, runInChild } from './harness/spawn.js';
import type { MeasureOptions, SubjectOutcome } from './harness/types.js';
import { gitRevision, installedVersion, loadAverage, machineInfo } from './report/machine.js';
import { renderMarkdown } from './report/markdown.js';
import type { BenchReport, ScenarioReport, SubjectReport } from './report/model.js';
import { renderReadmeTable, replaceRegion } from './report/readme.js';
import { type ScenarioDef, scenarios } from './scenarios/index.js';

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

function versions(): Record<string, string> {
  const libraries = new Set(scenarios.flatMap((s) => s.subjects.map((subject) => subject.library)));
  const found: Record<string, string> = {};
  const revision = gitRevision(repoRoot);
  for (const name of [...libraries].sort()) {
    const version = installedVersion(packageRoot, name);
    found[name] = name.startsWith('@resilience/') ? `${version} (built from ${revision})` : version;
  }
  return found;
}

/** One child after another: a measurement never shares the CPU with another of ours. */
async function runEach(scenario: ScenarioDef, measure: MeasureOptions): Promise<SubjectOutcome[]> {
  const outcomes: SubjectOutcome[] = [];
  for (const subject of scenario.subjects) outcomes.push(await runInChild(scenario.id, subject.id, measure));
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
  const readmeUrl = new URL('README.md', repoRoot);
  writeFileSync(readmeUrl, replaceRegion(readFileSync(readmeUrl, 'utf8'), renderReadmeTable(report)));
  mkdirSync(new URL('results/', packageRoot), { recursive: true });
  writeFileSync(new URL('results/latest.json', packageRoot), `${JSON.stringify(report, null, 2)}\n`);
  console.log('wrote docs/benchmarks.md, the README table and benchmarks/results/latest.json');
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.render) {
    // Re-renders the last run's numbers (after a change to the report's text), measuring nothing.
    publish(JSON.parse(readFileSync(new URL('results/latest.json', packageRoot), 'utf8')) as BenchReport, args.write);
    return;
  }
  const measure = args.quick ? QUICK : FULL;
  const chosen = args.only === undefined ? scenarios : scenarios.filter((s) => args.only?.includes(s.id));
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
      return { id: subject.id, label: subject.label, library: subject.library, outcome };
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
    });
  }
  const report: BenchReport = {
    date: new Date().toISOString(),
    quick: args.quick,
    machine: machineInfo(loadAtStart),
    versions: versions(),
    childFlags: CHILD_FLAGS,
    settings: { ...measure },
    scenarios: reports,
  };
  publish(report, args.write);
  console.log(`bench: ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

await main();
