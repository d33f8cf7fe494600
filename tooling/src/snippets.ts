import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { repoRoot } from './workspace.js';

// The checker behind every ```ts block of the documentation. The convention it
// reads is written down in docs/README.md ("Code blocks are checked"):
//
//   (no marker)                       the block is a whole module: it is type-checked as it stands;
//                                     a block with no import of its own gets the imports of the file's other blocks
//   <!-- snippet: run -->             … and it is a complete program: it also runs and must exit 0
//   <!-- snippet: run                 … and it prints exactly these lines (each starts with its text,
//   expect 200 limit=3                  indentation aside) and nothing on stderr
//   expect 429
//   -->
//   <!-- snippet: continue -->        the block goes on from the previous checked block of the same file
//   <!-- snippet: prelude             hidden declarations of the reader's own things (a server,
//   declare const app: Express;       a fetchUser()), checked with the block and shown nowhere
//   -->
//   <!-- snippet: skip <reason> -->   not checked; the reason is required and the test caps how many
//
// A file may say where its imports resolve from with `<!-- snippets: resolve-from <folder> -->`;
// otherwise a README under packages/ or examples/ resolves from its own package (whose
// devDependencies hold the libraries it adapts) and every other file from `tooling/`.

const execFileAsync = promisify(execFile);

/** One line of a generated snippet module and where it came from. */
interface SourceLine {
  /** The code. */
  text: string;
  /** `docs/x.md:12`, or `docs/x.md:12 (prelude)` for hidden declarations. */
  origin: string;
}

/** A ```ts block of a Markdown file and what its markers ask for. */
export interface Snippet {
  /** A readable id: `packages/core/README.md:16`. */
  name: string;
  /** The Markdown file, relative to the repository root. */
  file: string;
  /** The line of the opening fence. */
  line: number;
  /** The code, exactly as shown. */
  code: string;
  /** Run it as well as type-check it. */
  run: boolean;
  /**
   * With `run`: the lines it must print, one `expect` line each, in order; each printed line starts with its
   * text (indentation aside), no more lines are printed, and nothing goes to stderr. Without: any output, exit 0.
   */
  expect?: string[];
  /** Why it is not checked, when it is not. */
  skip?: string;
  /** The module that is type-checked (and run): the chain it continues, preludes, then the block. */
  lines: SourceLine[];
  /** The folder (relative to the root) whose dependencies its imports resolve from. */
  resolveFrom: string;
}

const fence = /^(\s*)```(\S*)\s*$/;
const marker = /^\s*<!--\s*snippet:\s*(run|continue|skip|prelude)\b([\s\S]*?)-->\s*$/;
const fileMarker = /<!--\s*snippets:\s*resolve-from\s+(\S+)\s*-->/;
/** A line that is the file marker and nothing else. */
const fileMarkerLine = /^\s*<!--\s*snippets:\s*resolve-from\s+\S+\s*-->\s*$/;

/** Every Markdown file the checker reads: the root README, each package's and example's README, docs/**. */
export function documentationFiles(root: string = repoRoot): string[] {
  const files = ['README.md'];
  for (const parent of ['packages', 'examples']) {
    for (const entry of readdirSync(join(root, parent), { withFileTypes: true })) {
      const readme = join(parent, entry.name, 'README.md');
      if (entry.isDirectory() && existsSync(join(root, readme))) files.push(readme);
    }
  }
  const walk = (dir: string): void => {
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
      const path = join(dir, entry.name);
      // docs/api is TypeDoc's output (`pnpm run docs`), not documentation written here.
      if (entry.isDirectory() && path !== join('docs', 'api') && entry.name !== 'node_modules') walk(path);
      else if (entry.isFile() && entry.name.endsWith('.md')) files.push(path);
    }
  };
  if (existsSync(join(root, 'docs'))) walk('docs');
  return files;
}

/** Where a Markdown file's snippets resolve their imports from, by default. */
function defaultResolveFrom(file: string): string {
  const parts = file.split('/');
  if ((parts[0] === 'packages' || parts[0] === 'examples') && parts.length === 3) return `${parts[0]}/${parts[1]}`;
  return 'tooling';
}

/**
 * Reads the ```ts blocks of one Markdown file with their markers. A marker that is
 * malformed (a skip without a reason, a continue with nothing before it, a marker
 * followed by no ts block) is an error naming the file and line, so a typo never
 * turns checking off quietly.
 */
export function parseSnippets(file: string, text: string): Snippet[] {
  // Fragments see the imports of every block of the file shown in full (a teaser
  // often comes before the complete example that imports what it uses).
  const shown = parse(file, text, []).flatMap((s) => (s.skip === undefined ? importStatements(s.code) : []));
  return parse(file, text, shown);
}

function parse(file: string, text: string, shownImports: readonly string[]): Snippet[] {
  const source = text.split('\n');
  const resolveFrom = fileMarker.exec(text)?.[1] ?? defaultResolveFrom(file);
  const snippets: Snippet[] = [];
  let pending: { kind: string; body: string; line: number }[] = [];
  let previous: Snippet | undefined;
  let i = 0;
  while (i < source.length) {
    const current = source[i] ?? '';
    // A comment that looks like a marker but is not one (`<!-- Snippet: run`, `<!-- snipet: run`, `<!-- snippets:
    // run`) would leave its block unrun and its expect lines unread: an error, like an unknown marker.
    if (/^\s*<!--\s*snip/i.test(current) && !/^\s*<!--\s*snippet:/.test(current)) {
      if (!fileMarkerLine.test(current)) {
        throw new Error(
          `${file}:${i + 1}: unknown snippet marker ${JSON.stringify(current.trim())} (the markers are \`<!-- snippet: run|continue|skip|prelude …\` and \`<!-- snippets: resolve-from <folder> -->\`)`,
        );
      }
      i++;
      continue;
    }
    // A marker: one line, or a prelude over several lines up to `-->`.
    if (/^\s*<!--\s*snippet:/.test(current)) {
      const start = i;
      let comment = current;
      while (!comment.includes('-->') && i + 1 < source.length) comment += `\n${source[++i]}`;
      if (!comment.includes('-->')) throw new Error(`${file}:${start + 1}: a snippet marker with no closing -->`);
      const match = marker.exec(comment);
      if (!match) throw new Error(`${file}:${start + 1}: unknown snippet marker ${JSON.stringify(comment)}`);
      const kind = match[1] ?? '';
      const body = match[2] ?? '';
      // Words after `continue` (`expect` lines, a `run`) would be read by nobody.
      if (kind === 'continue' && body.trim() !== '') {
        throw new Error(
          `${file}:${start + 1}: \`snippet: continue\` takes no words, got ${JSON.stringify(body.trim())}`,
        );
      }
      // A second `run` (or skip, or continue) on one block: only the first would be read, its expect lines with it.
      if (kind !== 'prelude' && pending.some((m) => m.kind === kind)) {
        throw new Error(`${file}:${start + 1}: a second \`snippet: ${kind}\` marker for one block`);
      }
      pending.push({ kind, body, line: start + 1 });
      i++;
      continue;
    }
    const open = fence.exec(current);
    if (!open) {
      if (pending.length > 0 && current.trim() !== '') {
        throw new Error(`${file}:${pending[0]?.line}: a snippet marker must be followed by a \`\`\`ts block`);
      }
      i++;
      continue;
    }
    // A block indented under a list item: its lines lose the fence's indentation.
    const indent = open[1]?.length ?? 0;
    const lang = open[2] ?? '';
    const line = i + 1;
    const body: string[] = [];
    i++;
    while (i < source.length && !/^\s*```\s*$/.test(source[i] ?? '')) {
      const text = source[i++] ?? '';
      body.push(text.slice(Math.min(indent, text.length - text.trimStart().length)));
    }
    i++;
    if (lang !== 'ts' && lang !== 'typescript') {
      if (pending.length > 0) throw new Error(`${file}:${pending[0]?.line}: a snippet marker before a ${lang} block`);
      continue;
    }
    const kinds = new Set(pending.map((m) => m.kind));
    const snippet: Snippet = {
      name: `${file}:${line}`,
      file,
      line,
      code: body.join('\n'),
      run: kinds.has('run'),
      lines: [],
      resolveFrom,
    };
    const run = pending.find((m) => m.kind === 'run');
    if (run !== undefined) {
      const expected = expectedLines(file, run.line, run.body);
      if (expected !== undefined) snippet.expect = expected;
    }
    const skip = pending.find((m) => m.kind === 'skip');
    if (skip) {
      const reason = skip.body.trim();
      if (reason === '') throw new Error(`${file}:${skip.line}: \`snippet: skip\` needs a reason`);
      snippet.skip = reason;
    } else {
      if (kinds.has('continue')) {
        if (!previous) throw new Error(`${file}:${line}: \`snippet: continue\` with no checked block before it`);
        snippet.lines.push(...previous.lines);
      }
      for (const prelude of pending.filter((m) => m.kind === 'prelude')) {
        const code = prelude.body.replace(/^[^\n]*\n?/, (first) => (first.trim() === '' ? '' : first));
        for (const [n, text] of code
          .split('\n')
          .map((l) => l.trimStart())
          .entries()) {
          snippet.lines.push({ text, origin: `${file}:${prelude.line + 1 + n} (prelude)` });
        }
      }
      for (const [n, text] of body.entries()) snippet.lines.push({ text, origin: `${file}:${line + 1 + n}` });
      // A fragment (no import of its own, nor in its prelude) sees the imports the file's other blocks show.
      if (!kinds.has('continue') && !snippet.lines.some((l) => /^\s*import\s/.test(l.text))) {
        const hoisted = mergeImports(shownImports).map((text) => ({
          text,
          origin: `${file} (an import of another block)`,
        }));
        snippet.lines.unshift(...hoisted);
      }
      previous = snippet;
    }
    snippets.push(snippet);
    pending = [];
  }
  if (pending.length > 0) throw new Error(`${file}:${pending[0]?.line}: a snippet marker at the end of the file`);
  return snippets;
}

/**
 * The `expect` lines of a `run` marker's body (`undefined` when it has none). Anything else in the body is an
 * error naming the line, so a misspelt `expect` never leaves an output unchecked.
 */
function expectedLines(file: string, line: number, body: string): string[] | undefined {
  const expected: string[] = [];
  for (const [n, raw] of body.split('\n').entries()) {
    const text = raw.trim();
    if (text === '') continue;
    const match = /^expect(?:\s+(.*))?$/.exec(text);
    if (match?.[1] === undefined) {
      const what = match ? '`expect` needs the text the line starts with' : `unknown words ${JSON.stringify(text)}`;
      throw new Error(`${file}:${line + n}: in \`snippet: run\`, ${what}`);
    }
    expected.push(match[1]);
  }
  return expected.length === 0 ? undefined : expected;
}

/**
 * What is wrong with a program's output for its `expect` lines, or `undefined` when it matches (always, for a
 * snippet without any): each printed line, its indentation aside, must start with its expected text, in order,
 * with no line more or less, and stderr must be empty.
 */
export function outputProblem(snippet: Snippet, output: { stdout: string; stderr: string }): string | undefined {
  const expected = snippet.expect;
  if (expected === undefined) return undefined;
  const printed = output.stdout.replace(/\n$/, '').split('\n');
  if (output.stdout === '') printed.length = 0;
  const problems: string[] = [];
  for (let i = 0; i < Math.max(expected.length, printed.length); i++) {
    const want = expected[i];
    const got = printed[i];
    if (want === undefined) problems.push(`line ${i + 1}: printed ${JSON.stringify(got)}, expected no more lines`);
    else if (got === undefined) problems.push(`line ${i + 1}: expected ${JSON.stringify(want)}, printed nothing`);
    else if (!got.trimStart().startsWith(want)) {
      problems.push(`line ${i + 1}: expected a line starting ${JSON.stringify(want)}, printed ${JSON.stringify(got)}`);
    }
  }
  if (output.stderr !== '') problems.push(`stderr is not empty: ${JSON.stringify(output.stderr)}`);
  return problems.length === 0
    ? undefined
    : `${snippet.name}: the output differs from its expect lines\n${problems.join('\n')}`;
}

/** The import declarations of a block, each on one line. */
export function importStatements(code: string): string[] {
  return [...code.matchAll(/^import\s[^'"]*['"][^'"\n]+['"]\s*;?/gm)].map((m) => m[0].replace(/\s+/g, ' ').trim());
}

/** The local names an import declaration binds. */
function localNames(statement: string): string[] {
  const clause = /^import\s+(?:type\s+)?([^'"]*?)\s*(?:from\s*)?['"]/.exec(statement)?.[1] ?? '';
  const names: string[] = [];
  const braces = /\{([^}]*)\}/.exec(clause);
  for (const spec of braces?.[1]?.split(',') ?? []) {
    const local = spec
      .trim()
      .replace(/^type\s+/, '')
      .split(/\s+as\s+/)
      .pop();
    if (local) names.push(local);
  }
  for (const part of clause.replace(/\{[^}]*\}/, '').split(',')) {
    const local = part.trim().replace(/^\*\s+as\s+/, '');
    if (/^[\w$]+$/.test(local)) names.push(local);
  }
  return names;
}

/**
 * The imports of earlier blocks, for a fragment: each local name bound once (the
 * first block that imported it wins), named imports of one module merged.
 */
export function mergeImports(statements: readonly string[]): string[] {
  const seen = new Set<string>();
  const named = new Map<string, string[]>();
  const other: string[] = [];
  for (const statement of statements) {
    const plain = /^import\s+(type\s+)?\{([^}]*)\}\s*from\s*(['"][^'"]+['"])/.exec(statement);
    if (plain) {
      const specs = named.get(plain[3] ?? '') ?? [];
      for (const raw of (plain[2] ?? '').split(',')) {
        const spec = raw.trim();
        const local = spec
          .replace(/^type\s+/, '')
          .split(/\s+as\s+/)
          .pop();
        if (!local || seen.has(local)) continue;
        seen.add(local);
        specs.push(plain[1] && !spec.startsWith('type ') ? `type ${spec}` : spec);
      }
      named.set(plain[3] ?? '', specs);
      continue;
    }
    const locals = localNames(statement);
    if (locals.some((local) => seen.has(local)) || other.includes(statement)) continue;
    for (const local of locals) seen.add(local);
    other.push(statement);
  }
  const merged = [...named].filter(([, specs]) => specs.length > 0);
  return [...other, ...merged.map(([module, specs]) => `import { ${specs.join(', ')} } from ${module};`)];
}

/** Every snippet of every documentation file. */
export function allSnippets(root: string = repoRoot): Snippet[] {
  return documentationFiles(root).flatMap((file) => parseSnippets(file, readFileSync(join(root, file), 'utf8')));
}

/** A type error or a failed run, reported against the Markdown line it comes from. */
export interface SnippetProblem {
  /** The snippet. */
  snippet: string;
  /** `docs/x.md:14: error TS2304: Cannot find name 'app'.` */
  message: string;
}

/** The scratch folder (inside the resolving package, so its dependencies resolve) for one run. */
function scratchDir(resolveFrom: string): string {
  return join(repoRoot, resolveFrom, `.snippets-${process.pid}`);
}

/** A file name for a snippet's module, unique per snippet (`docs/a-b.md` and `docs/a/b.md` do not collide). */
export function moduleFile(snippet: Snippet): string {
  const hash = createHash('sha256').update(snippet.name).digest('hex').slice(0, 8);
  return `${snippet.name.replace(/[^a-z0-9]+/gi, '-')}-${hash}.ts`;
}

/**
 * Type-checks the snippets with the workspace's own compiler and strict base
 * config, one `tsc` per folder they resolve from. Returns the problems, each
 * mapped back to its Markdown line.
 */
export async function typecheckSnippets(snippets: Snippet[]): Promise<SnippetProblem[]> {
  const checked = snippets.filter((s) => s.skip === undefined);
  const groups = new Map<string, Snippet[]>();
  for (const snippet of checked) groups.set(snippet.resolveFrom, [...(groups.get(snippet.resolveFrom) ?? []), snippet]);
  const problems: SnippetProblem[] = [];
  for (const [resolveFrom, group] of groups) {
    const dir = scratchDir(resolveFrom);
    mkdirSync(dir, { recursive: true });
    const byFile = new Map<string, Snippet>();
    for (const snippet of group) {
      const file = moduleFile(snippet);
      byFile.set(file, snippet);
      // `export {}` keeps each block its own module even when it imports nothing.
      writeFileSync(join(dir, file), `${snippet.lines.map((l) => l.text).join('\n')}\nexport {};\n`);
    }
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        extends: relative(dir, join(repoRoot, 'tsconfig.base.json')),
        compilerOptions: {
          rootDir: relative(dir, repoRoot),
          noEmit: true,
          declaration: false,
          declarationMap: false,
          isolatedDeclarations: false,
          // A snippet may declare what it does not use (a prelude, an `app` it does not need).
          noUnusedLocals: false,
        },
        files: [...byFile.keys()],
      }),
    );
    const output = await execFileAsync(
      join(repoRoot, 'node_modules', '.bin', 'tsc'),
      ['-p', 'tsconfig.json', '--pretty', 'false'],
      {
        cwd: dir,
        maxBuffer: 16 * 1024 * 1024,
      },
    ).then(
      ({ stdout }) => stdout,
      (err: { stdout?: string; message: string }) => err.stdout || err.message,
    );
    let last: SnippetProblem | undefined;
    for (const text of output.split('\n')) {
      const match = /^(.+?)\((\d+),(\d+)\): (.*)$/.exec(text);
      if (match) {
        const snippet = byFile.get(match[1] ?? '');
        const origin = snippet?.lines[Number(match[2]) - 1]?.origin ?? `${match[1]}:${match[2]}`;
        last = { snippet: snippet?.name ?? resolveFrom, message: `${origin}: ${match[4]}` };
        problems.push(last);
      } else if (text.trim() !== '' && last) {
        last.message += `\n${text}`;
      } else if (text.trim() !== '') {
        problems.push({ snippet: resolveFrom, message: text });
      }
    }
  }
  return problems;
}

/**
 * Where programs run: a folder of the system's temporary directory, outside every package, so a run writes
 * nothing into the repository. Their bare imports resolve as if from the package the snippet resolves from
 * (the resolve hook below), so `@resilience/fastify` resolves in its own README as a user's import would.
 */
function runDir(): string {
  return join(tmpdir(), `resilience-snippets-${process.pid}`);
}

/** A module-resolution hook: bare specifiers imported by a file of `data.scratch` resolve from `data.from`. */
const resolveHook = `let scratch, from;
export function initialize(data) { scratch = data.scratch; from = data.from; }
export function resolve(specifier, context, next) {
  const bare = !/^(?:\\.{0,2}\\/|[a-z][a-z0-9+.-]*:)/i.test(specifier);
  if (bare && context.parentURL?.startsWith(scratch)) return next(specifier, { ...context, parentURL: from });
  return next(specifier, context);
}
`;

/**
 * Runs one complete-program snippet with tsx (on the workspace's TypeScript
 * sources, no build needed) from a temporary folder outside the repository,
 * and returns its output; rejects with the output when it exits non-zero or
 * outlasts `timeoutMs`. Check the output against its `expect` lines with
 * {@link outputProblem}.
 */
export async function runSnippet(snippet: Snippet, timeoutMs: number): Promise<{ stdout: string; stderr: string }> {
  const dir = runDir();
  const file = join(dir, `run-${moduleFile(snippet)}`);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${snippet.lines.map((l) => l.text).join('\n')}\nexport {};\n`);
  // Every package here is ESM: top-level await and `import.meta` need the folder to say so.
  writeFileSync(join(dir, 'package.json'), '{ "type": "module", "private": true }\n');
  const hooks = join(dir, 'resolve-hook.mjs');
  writeFileSync(hooks, resolveHook);
  const register = join(dir, `register-${moduleFile(snippet).replace(/\.ts$/, '.mjs')}`);
  const data = {
    scratch: `${pathToFileURL(dir).href}/`,
    from: pathToFileURL(join(repoRoot, snippet.resolveFrom, 'package.json')).href,
  };
  writeFileSync(
    register,
    `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)}, { data: ${JSON.stringify(data)} });\n`,
  );
  const tsx = pathToFileURL(join(repoRoot, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
  return execFileAsync(
    process.execPath,
    ['--conditions=@resilience/source', '--import', tsx, '--import', pathToFileURL(register).href, file],
    {
      // In the temporary folder too: a program that writes a file where it runs (a log, a cache) writes it there.
      cwd: dir,
      timeout: timeoutMs,
      killSignal: 'SIGKILL',
      // An OTLP exporter in a snippet has nowhere to send to.
      env: { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: '' },
    },
  );
}

/** Removes the scratch folders this process wrote. */
export function removeScratch(snippets: Snippet[]): void {
  rmSync(runDir(), { recursive: true, force: true });
  for (const resolveFrom of new Set(snippets.map((s) => s.resolveFrom))) {
    rmSync(scratchDir(resolveFrom), { recursive: true, force: true });
  }
}
