import { execFile } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));

/** The first TypeScript block after the heading "A runnable example". */
function example(): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## A runnable example'));
  const match = /```ts\n([\s\S]*?)```/.exec(section);
  if (match?.[1] === undefined) throw new Error('README.md has no runnable example');
  return match[1];
}

describe('the README', () => {
  it('has a runnable example that runs and prints what it says', async () => {
    const file = join(root, 'readme-example.tmp.ts');
    writeFileSync(file, example());
    try {
      const { stdout, stderr } = await run(
        process.execPath,
        ['--conditions=@resilience/source', '--import', 'tsx', file],
        {
          cwd: root,
          timeout: 15_000,
        },
      );
      const statuses = stdout
        .trim()
        .split('\n')
        .map((line) => line.split(' ')[0]);
      expect(statuses).toEqual(['200', '503', '200', '429']);
      expect(stdout).toContain('limit=3, remaining=2');
      expect(stderr).toBe('');
    } finally {
      rmSync(file, { force: true });
    }
  });
});
