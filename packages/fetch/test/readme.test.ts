import { execFile } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));

/** The first TypeScript block after `heading`, and the first text block after it. */
function section(heading: string): { code: string; output: string } {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const rest = readme.slice(readme.indexOf(heading));
  const code = /```ts\n([\s\S]*?)```/.exec(rest)?.[1];
  const output = /```text\n([\s\S]*?)```/.exec(rest)?.[1];
  if (code === undefined || output === undefined) throw new Error(`README.md has no ${heading}`);
  return { code, output };
}

describe('the README', () => {
  it('has a runnable example that runs and prints what it says', async () => {
    const { code, output } = section('## A runnable example');
    const file = join(root, 'readme-example.tmp.ts');
    writeFileSync(file, code);
    try {
      const { stdout, stderr } = await run(
        process.execPath,
        ['--conditions=@resilience/source', '--import', 'tsx', file],
        { cwd: root, timeout: 15_000 },
      );
      expect(stdout).toBe(output);
      expect(stderr).toBe('');
    } finally {
      rmSync(file, { force: true });
    }
  });
});
