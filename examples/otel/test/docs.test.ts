import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

// The TypeScript snippets of the observability docs and of the otel and logging
// READMEs are programs: each runs here, from inside this example so that its
// imports resolve, and must exit 0.
const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const repo = join(root, '../..');
const scratch = join(root, `.snippets-${process.pid}`);

const sources = ['docs/observability.md', 'packages/otel/README.md', 'packages/logging/README.md'];
const snippets = sources.flatMap((file) =>
  [...readFileSync(join(repo, file), 'utf8').matchAll(/```ts\n([\s\S]*?)```/g)]
    .map((match, i) => ({ name: `${file} #${i + 1}`, code: match[1] ?? '' }))
    // Fragments that lean on a server or library of your own are shown, not run.
    .filter(({ code }) => /^import /m.test(code) && !/winston|grpc\.|handle\(/.test(code)),
);

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('the documented snippets', () => {
  it('are found', () => {
    expect(snippets.length).toBeGreaterThanOrEqual(6);
  });

  it.each(snippets)(
    '$name runs',
    async ({ name, code }) => {
      mkdirSync(scratch, { recursive: true });
      const file = join(scratch, `${name.replace(/[^a-z0-9]+/gi, '-')}.ts`);
      writeFileSync(file, code);
      const { stderr } = await run('pnpm', ['exec', 'tsx', '--conditions=@resilience/source', file], {
        cwd: root,
        timeout: 30_000,
        env: { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: '' },
      });
      expect(stderr).not.toMatch(/Error/);
    },
    40_000,
  );
});
