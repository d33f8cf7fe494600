import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Every changeset in the repository parses: front matter naming workspace
// packages with a bump type, then a summary. (A Markdown formatter once turned a
// front matter into a heading, and the changelog would have lost the entry.)
const root = fileURLToPath(new URL('../../..', import.meta.url));
const changesetDir = join(root, '.changeset');
const publishable = new Set(
  readdirSync(join(root, 'packages'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => JSON.parse(readFileSync(join(root, 'packages', entry.name, 'package.json'), 'utf8')))
    .filter((manifest: { private?: boolean }) => manifest.private !== true)
    .map((manifest: { name: string }) => manifest.name),
);
const changesets = readdirSync(changesetDir).filter((name) => name.endsWith('.md') && name !== 'README.md');

describe('changesets', () => {
  it.each(changesets)('%s names workspace packages, bump types and a summary', (name) => {
    const text = readFileSync(join(changesetDir, name), 'utf8');
    const match = /^---\n([\s\S]*?)\n---\n+([\s\S]+)$/.exec(text);
    expect(match, 'front matter between --- lines, then a summary').not.toBeNull();
    const lines = (match?.[1] ?? '').split('\n').filter((line) => line.trim() !== '');
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) {
      const entry = /^"([^"]+)": (major|minor|patch)$/.exec(line);
      expect(entry, line).not.toBeNull();
      expect(publishable.has(entry?.[1] ?? ''), line).toBe(true);
    }
    expect((match?.[2] ?? '').trim().length).toBeGreaterThan(20);
  });
});
