import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { MachineInfo } from './model.js';

/** The 1-minute load average, one decimal. */
export function loadAverage(): string {
  return (os.loadavg()[0] ?? 0).toFixed(1);
}

/** The machine and runtime of this process; `loadAtStart` is {@link loadAverage} when the run began. */
export function machineInfo(loadAtStart: string): MachineInfo {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    v8: process.versions.v8,
    loadAverage: `${loadAtStart} → ${loadAverage()}`,
  };
}

/** The installed version of `name`, read from `<packageRoot>/node_modules/<name>/package.json`. */
export function installedVersion(packageRoot: URL, name: string): string {
  try {
    const json = readFileSync(new URL(`node_modules/${name}/package.json`, packageRoot), 'utf8');
    return (JSON.parse(json) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'not installed';
  }
}

/** The registry name of the package installed as `name` (they differ for an alias such as `cockatiel-4`). */
export function installedName(packageRoot: URL, name: string): string {
  try {
    const json = readFileSync(new URL(`node_modules/${name}/package.json`, packageRoot), 'utf8');
    return (JSON.parse(json) as { name?: string }).name ?? name;
  } catch {
    return name;
  }
}

/** `abc1234`, with `+ uncommitted changes` when the work tree differs from it. */
export function gitRevision(cwd: URL): string {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'packages'], { cwd, encoding: 'utf8' }).trim();
    return dirty === '' ? sha : `${sha} + uncommitted changes`;
  } catch {
    return 'unknown';
  }
}
