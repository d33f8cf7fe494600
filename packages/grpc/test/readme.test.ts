import { execFile } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const run = promisify(execFile);
const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

it('the README example runs as written and rides out the failing start', async () => {
  const readme = readFileSync(here('../README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## A runnable example'));
  const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  expect(code).toBeDefined();
  // Beside the package, so `@resilience/grpc` and its peers resolve as they do for a user.
  const file = here('./.readme-example.ts');
  writeFileSync(file, code as string);
  try {
    const tsx = here('../../../node_modules/.bin/tsx');
    const { stdout } = await run(tsx, ['--conditions=@resilience/source', file], { timeout: 30_000 });
    expect(stdout.trim()).toBe('Hello, Ada (call 3)');
  } finally {
    rmSync(file, { force: true });
  }
}, 40_000);
