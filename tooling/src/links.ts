import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { repoRoot } from './workspace.js';

/** A relative link in a Markdown file that leads nowhere. */
export interface BrokenLink {
  /** `docs/x.md:12`. */
  where: string;
  /** The link as written. */
  link: string;
  /** Why it is broken. */
  reason: string;
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
export function headingSlug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** Lines outside fenced code blocks, with their line numbers. */
function proseLines(text: string): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  let fence: string | undefined;
  for (const [i, line] of text.split('\n').entries()) {
    const open = /^\s*(`{3,}|~{3,})/.exec(line);
    if (open) {
      if (fence === undefined) fence = open[1];
      else if (line.trim().startsWith(fence)) fence = undefined;
      continue;
    }
    if (fence === undefined) out.push({ line: i + 1, text: line });
  }
  return out;
}

/** The anchors a Markdown file offers: its headings' slugs (repeated ones numbered, as GitHub does). */
export function anchorsOf(text: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const { text: line } of proseLines(text)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const slug = headingSlug(heading[1] ?? '');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    anchors.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return anchors;
}

/**
 * Every relative link of the given Markdown files (`[text](path)`, `[text](path#anchor)`, `[text](#anchor)`) that
 * points at a file or folder that does not exist, or at a heading the target Markdown file does not have.
 */
export function brokenLinks(files: string[], root: string = repoRoot): BrokenLink[] {
  const broken: BrokenLink[] = [];
  const anchorCache = new Map<string, Set<string>>();
  const anchors = (file: string): Set<string> => {
    let found = anchorCache.get(file);
    if (!found) {
      found = anchorsOf(readFileSync(join(root, file), 'utf8'));
      anchorCache.set(file, found);
    }
    return found;
  };
  for (const file of files) {
    for (const { line, text } of proseLines(readFileSync(join(root, file), 'utf8'))) {
      // Inline code is not a link.
      const prose = text.replace(/`[^`]*`/g, '');
      for (const match of prose.matchAll(/\]\(([^)\s]+)\)/g)) {
        const link = match[1] ?? '';
        if (/^[a-z][a-z0-9+.-]*:/i.test(link)) continue; // https:, mailto:
        const [path = '', anchor] = link.split('#');
        const target = path === '' ? file : normalize(join(dirname(file), decodeURIComponent(path)));
        const where = `${file}:${line}`;
        if (target.startsWith('..') || !existsSync(join(root, target))) {
          broken.push({ where, link, reason: `${target} does not exist` });
          continue;
        }
        if (statSync(join(root, target)).isDirectory()) {
          // GitHub shows a folder's README; npm and TypeDoc cannot follow a link to a folder.
          broken.push({ where, link, reason: `${target} is a folder: link the file (its README.md)` });
          continue;
        }
        if (anchor === undefined || anchor === '') continue;
        if (!target.endsWith('.md')) {
          broken.push({ where, link, reason: `an anchor into ${target}, which is not a Markdown file` });
        } else if (!anchors(target).has(anchor)) {
          broken.push({ where, link, reason: `${target} has no heading #${anchor}` });
        }
      }
    }
  }
  return broken;
}
