import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../src/workspace.js';

// A merge that commits its conflict markers breaks nothing that compiles when they land in prose: the core README
// carried three such blocks for a week. Every tracked text file is checked, Markdown included.
const marker = /^(<{7} |={7}$|>{7} )/m;

function trackedTextFiles(): string[] {
  const listed = execFileSync('git', ['ls-files', '-z'], { cwd: repoRoot, encoding: 'utf8', maxBuffer: 1 << 26 });
  return listed.split('\0').filter((file) => /\.(md|ts|tsx|js|mjs|cjs|json|ya?ml|html|css|sh)$/.test(file));
}

describe('the tracked files', () => {
  it('carry no merge-conflict markers', () => {
    const files = trackedTextFiles();
    expect(files.length).toBeGreaterThan(100);
    const marked = files.filter((file) => marker.test(readFileSync(join(repoRoot, file), 'utf8')));
    expect(marked).toEqual([]);
  });

  it('would be caught with a marker in Markdown', () => {
    expect(marker.test('text\n<<<<<<< HEAD\nours\n=======\ntheirs\n>>>>>>> branch\n')).toBe(true);
    expect(marker.test('a table\n=== not a marker\n')).toBe(false);
  });
});
