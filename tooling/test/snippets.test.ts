import { afterAll, describe, expect, it } from 'vitest';
import {
  allSnippets,
  moduleFile,
  outputProblem,
  parseSnippets,
  removeScratch,
  runSnippet,
  typecheckSnippets,
} from '../src/snippets.js';

// Every ```ts block of the READMEs (root, packages/*, examples/*) and of docs/**
// is type-checked against the workspace packages, and the complete programs
// among them run. The markers are described in docs/README.md.
const snippets = allSnippets();
const checked = snippets.filter((s) => s.skip === undefined);
const programs = checked.filter((s) => s.run);

afterAll(() => removeScratch(snippets));

describe('the documentation snippets', () => {
  it('check the output of the web packages’ runnable examples (they had a readme test each)', () => {
    for (const file of ['packages/http/README.md', 'packages/fastify/README.md', 'packages/hono/README.md']) {
      expect(programs.filter((s) => s.file === file && s.expect !== undefined).length, file).toBe(1);
    }
  });

  it('are found, and most are checked', () => {
    expect(snippets.length).toBeGreaterThanOrEqual(20);
    // Skipping is for what cannot compile here (a library the workspace does not
    // install); it stays the exception.
    expect(snippets.length - checked.length).toBeLessThanOrEqual(Math.max(2, Math.floor(snippets.length / 10)));
    expect(programs.length).toBeGreaterThanOrEqual(8);
  });

  it('type-check', async () => {
    const problems = await typecheckSnippets(snippets);
    expect(problems.map((p) => p.message).join('\n\n')).toBe('');
  }, 180_000);

  it.each(programs.map((s) => ({ name: s.name, snippet: s })))(
    '$name runs and exits 0, printing what its expect lines say',
    async ({ snippet }) => {
      const output = await runSnippet(snippet, 30_000);
      expect(output.stderr).not.toMatch(/Error|Warning/);
      expect(outputProblem(snippet, output)).toBeUndefined();
    },
    40_000,
  );
});

describe('the checker', () => {
  it('reports a type error at its Markdown line, prelude lines included', async () => {
    const bad = parseSnippets(
      'docs/broken.md',
      [
        'Text.',
        '<!-- snippet: prelude',
        'declare const n: number;',
        '-->',
        '```ts',
        'const s: string = n;',
        '```',
      ].join('\n'),
    );
    const problems = await typecheckSnippets(bad);
    expect(problems).toHaveLength(1);
    expect(problems[0]?.message).toMatch(/^docs\/broken\.md:6: error TS2322/);
  }, 60_000);
});

describe('the runner', () => {
  it('fails a program that throws, and one that never ends', async () => {
    const [throws, hangs] = parseSnippets(
      'docs/broken-run.md',
      [
        '<!-- snippet: run -->',
        '```ts',
        "throw new Error('boom');",
        '```',
        '<!-- snippet: run -->',
        '```ts',
        'setInterval(() => {}, 1_000);',
        '```',
      ].join('\n'),
    );
    await expect(runSnippet(throws!, 30_000)).rejects.toThrow(/boom/);
    await expect(runSnippet(hangs!, 2_000)).rejects.toMatchObject({ killed: true });
  }, 60_000);
});

describe('the runner, with expect lines', () => {
  const [counts, quiet] = parseSnippets(
    'docs/expect.md',
    [
      '<!-- snippet: run',
      'expect 1 one',
      '  expect 2',
      '',
      'expect { a: 1 }',
      '-->',
      '```ts',
      "console.log(1, 'one', 'and more');",
      'console.log(2);',
      'console.log({ a: 1 });',
      '```',
      '<!-- snippet: run -->',
      '```ts',
      "console.error('anything');",
      '```',
    ].join('\n'),
  );

  it('reads them in order, and none from a plain run marker', () => {
    expect(counts?.expect).toEqual(['1 one', '2', '{ a: 1 }']);
    expect(quiet?.run).toBe(true);
    expect(quiet?.expect).toBeUndefined();
  });

  it('passes the matching output and names each line that differs', async () => {
    const output = await runSnippet(counts!, 30_000);
    expect(output).toEqual({ stdout: '1 one and more\n2\n{ a: 1 }\n', stderr: '' });
    expect(outputProblem(counts!, output)).toBeUndefined();
    expect(outputProblem(quiet!, { stdout: '', stderr: 'anything\n' })).toBeUndefined();
    expect(outputProblem(counts!, { stdout: '1 one\n3\n', stderr: '' })).toBe(
      [
        'docs/expect.md:7: the output differs from its expect lines',
        'line 2: expected a line starting "2", printed "3"',
        'line 3: expected "{ a: 1 }", printed nothing',
      ].join('\n'),
    );
    expect(outputProblem(counts!, { stdout: '1 one\n2\n{ a: 1 }\nextra\n', stderr: 'oops' })).toBe(
      [
        'docs/expect.md:7: the output differs from its expect lines',
        'line 4: printed "extra", expected no more lines',
        'stderr is not empty: "oops"',
      ].join('\n'),
    );
    expect(outputProblem(counts!, { stdout: '', stderr: '' })).toMatch(/line 1: expected "1 one", printed nothing/);
  }, 60_000);

  it('refuses a run marker with anything but expect lines, naming the line', () => {
    expect(() => parseSnippets('docs/a.md', 'Text.\n<!-- snippet: run\nexpect 1\nexpct 2\n-->\n```ts\n```')).toThrow(
      'docs/a.md:4: in `snippet: run`, unknown words "expct 2"',
    );
    expect(() => parseSnippets('docs/a.md', '<!-- snippet: run expect -->\n```ts\n```')).toThrow(
      'docs/a.md:1: in `snippet: run`, `expect` needs the text the line starts with',
    );
    expect(() => parseSnippets('docs/a.md', '<!-- snippet: run twice -->\n```ts\n```')).toThrow(
      'docs/a.md:1: in `snippet: run`, unknown words "twice"',
    );
  });

  it('runs a program outside the repository, resolving its imports from its package, itself included', async () => {
    const [program] = parseSnippets(
      'packages/http/README.md',
      [
        '<!-- snippet: run',
        'expect outside: true',
        'expect cwd outside: true',
        'expect 2001:db8:1:0:0:0:0:0/56',
        'expect ipaddr.js: true',
        '-->',
        '```ts',
        "import { fileURLToPath } from 'node:url';",
        "import { addressKey } from '@resilience/http';",
        "import ipaddr from 'ipaddr.js';",
        `const repo = ${JSON.stringify(process.cwd().replace(/\/tooling$/, ''))};`,
        "console.log('outside:', !fileURLToPath(import.meta.url).startsWith(repo));",
        // A program that writes a file where it runs (a log, a cache) must not write it into the repository.
        "console.log('cwd outside:', !process.cwd().startsWith(repo));",
        "console.log(addressKey('2001:db8:1:2:3:4:5:6'));",
        "console.log('ipaddr.js:', ipaddr.IPv6.isValid('::1'));",
        '```',
      ].join('\n'),
    );
    expect(outputProblem(program!, await runSnippet(program!, 30_000))).toBeUndefined();
  }, 60_000);
});

describe('the snippet markers', () => {
  it('chain, prelude and skip as documented', () => {
    const md = [
      '```ts',
      'const a = 1;',
      '```',
      '<!-- snippet: continue -->',
      '<!-- snippet: prelude',
      'declare const b: number;',
      '-->',
      '```ts',
      'console.log(a + b);',
      '```',
      '<!-- snippet: skip needs winston -->',
      '```ts',
      'import winston from "winston";',
      '```',
    ].join('\n');
    const [first, second, third] = parseSnippets('docs/x.md', md);
    expect(first?.lines.map((l) => l.text)).toEqual(['const a = 1;']);
    expect(second?.lines).toEqual([
      { text: 'const a = 1;', origin: 'docs/x.md:2' },
      { text: 'declare const b: number;', origin: 'docs/x.md:6 (prelude)' },
      { text: '', origin: 'docs/x.md:7 (prelude)' },
      { text: 'console.log(a + b);', origin: 'docs/x.md:9' },
    ]);
    expect(third?.skip).toBe('needs winston');
    expect(first?.resolveFrom).toBe('tooling');
    expect(parseSnippets('packages/express/README.md', '```ts\n```')[0]?.resolveFrom).toBe('packages/express');
  });

  it('read blocks indented under a list item', () => {
    const [snippet] = parseSnippets(
      'a.md',
      '1. Item:\n\n   <!-- snippet: run -->\n   ```ts\n   if (x) {\n     y();\n   }\n   ```\n',
    );
    expect(snippet?.run).toBe(true);
    expect(snippet?.code).toBe('if (x) {\n  y();\n}');
  });

  it('give a fragment the imports shown above it, each name once', () => {
    const md = [
      '```ts',
      "import { Retry, pipeline } from '@resilience/core';",
      "import * as grpc from '@grpc/grpc-js';",
      '```',
      '```ts',
      'import {',
      '  CircuitBreaker,',
      '  Retry,',
      '  type Clock,',
      "} from '@resilience/core';",
      "import express, { Router } from 'express';",
      '```',
      '```ts',
      'const retry = new Retry({});',
      '```',
      '<!-- snippet: prelude',
      "import { Retry } from '@resilience/core';",
      '-->',
      '```ts',
      'const own = new Retry({});',
      '```',
    ].join('\n');
    const [, , fragment, withPrelude] = parseSnippets('docs/x.md', md);
    expect(fragment?.lines.map((l) => l.text)).toEqual([
      "import * as grpc from '@grpc/grpc-js';",
      "import express, { Router } from 'express';",
      "import { Retry, pipeline, CircuitBreaker, type Clock } from '@resilience/core';",
      'const retry = new Retry({});',
    ]);
    expect(withPrelude?.lines.map((l) => l.text)).toEqual([
      "import { Retry } from '@resilience/core';",
      '',
      'const own = new Retry({});',
    ]);
  });

  it('get a module file of their own, even where names sanitize alike', () => {
    const [a] = parseSnippets('docs/a-b.md', '```ts\n```');
    const [b] = parseSnippets('docs/a/b.md', '```ts\n```');
    expect(a && b && moduleFile(a)).not.toBe(a && b && moduleFile(b));
  });

  it('refuse what would switch checking off quietly', () => {
    expect(() => parseSnippets('a.md', '<!-- snippet: skip -->\n```ts\nx\n```')).toThrow(/a\.md:1: .*needs a reason/);
    expect(() => parseSnippets('a.md', '<!-- snippet: continue -->\n```ts\nx\n```')).toThrow(/a\.md:2: .*continue/);
    expect(() => parseSnippets('a.md', '<!-- snippet: runn -->\n```ts\nx\n```')).toThrow(/unknown snippet marker/);
    expect(() => parseSnippets('a.md', '<!-- snippet: run -->\n\ntext\n```ts\nx\n```')).toThrow(/followed by/);
    expect(() => parseSnippets('a.md', '<!-- snippet: run -->\n```sh\nx\n```')).toThrow(/before a sh block/);
    expect(() => parseSnippets('a.md', 'text\n<!-- snippet: run -->')).toThrow(/end of the file/);
    expect(() => parseSnippets('a.md', '<!-- snippet: prelude\ndeclare const a: 1;\n```ts\na;\n```')).toThrow(
      /a\.md:1: .*no closing -->/,
    );
  });

  it('refuse a misspelt marker, words after continue and a second run, which left expect lines unread', () => {
    const program = '\nexpect 1\n-->\n```ts\nconsole.log(2);\n```';
    for (const start of ['<!-- Snippet: run', '<!-- snipet: run', '<!-- snippets: run', '<!-- snippet : run']) {
      expect(() => parseSnippets('a.md', `Text.\n${start}${program}`), start).toThrow(
        `a.md:2: unknown snippet marker ${JSON.stringify(start)}`,
      );
    }
    expect(() =>
      parseSnippets('a.md', '```ts\nconst a = 1;\n```\n<!-- snippet: continue\nexpect 1\n-->\n```ts\na;\n```'),
    ).toThrow('a.md:4: `snippet: continue` takes no words, got "expect 1"');
    expect(() => parseSnippets('a.md', `<!-- snippet: run -->\n<!-- snippet: run${program}`)).toThrow(
      'a.md:2: a second `snippet: run` marker for one block',
    );
    expect(() => parseSnippets('a.md', '<!-- snippets: resolve_from tooling -->\n```ts\nx;\n```')).toThrow(
      /a\.md:1: unknown snippet marker/,
    );
    // What stays allowed: the file marker on its own line, markers quoted in text, several preludes.
    const [ok] = parseSnippets(
      'a.md',
      [
        '<!-- snippets: resolve-from tooling -->',
        'Write `<!-- snippet: run -->` above a block.',
        '<!-- snippet: prelude',
        'declare const a: 1;',
        '-->',
        '<!-- snippet: prelude',
        'declare const b: 2;',
        '-->',
        '<!-- snippet: run',
        'expect 3',
        '-->',
        '```ts',
        'console.log(a + b);',
        '```',
      ].join('\n'),
    );
    expect(ok?.expect).toEqual(['3']);
    expect(ok?.resolveFrom).toBe('tooling');
  });
});
