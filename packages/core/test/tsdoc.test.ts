import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Every exported declaration of every workspace package carries a TSDoc comment.
// The check lives here, in the package every other one builds on, and reads all
// of packages/*/src so that no package escapes it.
const packagesDir = fileURLToPath(new URL('../..', import.meta.url));
const declaration =
  /^export\s+(?:declare\s+)?(?:abstract\s+)?(?:async\s+)?(class|function|const|let|interface|type)\s+([A-Za-z_$][\w$]*)/;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

/** Exported declarations not directly preceded by a `/** … *\/` comment (overload implementations excepted). */
function undocumented(file: string): string[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  const seen = new Set<string>();
  const missing: string[] = [];
  lines.forEach((line, index) => {
    const match = declaration.exec(line);
    if (match === null) return;
    const name = match[2] as string;
    let previous = index - 1;
    while (previous >= 0 && /^\s*(\/\/.*)?$/.test(lines[previous] ?? '')) previous--;
    const documented = (lines[previous] ?? '').trim().endsWith('*/');
    const overloadImplementation = match[1] === 'function' && seen.has(name);
    if (!documented && !overloadImplementation) missing.push(`${relative(packagesDir, file)}:${index + 1} ${name}`);
    seen.add(name);
  });
  return missing;
}

describe('TSDoc', () => {
  const packages = readdirSync(packagesDir, { withFileTypes: true }).filter((entry) => entry.isDirectory());
  it.each(packages.map((entry) => entry.name))('documents every export of packages/%s', (name) => {
    let files: string[] = [];
    try {
      files = sources(join(packagesDir, name, 'src'));
    } catch {
      return;
    }
    expect(files.flatMap(undocumented)).toEqual([]);
  });
});
