// The anchor libraries, cockatiel and opossum, in two releases each: the ones
// every scenario has compared with on Node 20 (cockatiel 3.2.1, opossum 9.0.0)
// and their newest (cockatiel 4, opossum 10), which need Node 22 or later.
// The newest are installed under aliases (`cockatiel-4`, `opossum-10`) and
// measured by the same subject code, in a child on a Node 22 from the registry.
import type { SubjectDef, TargetDef } from './types.js';

/** The Node.js major the newest releases run on (their `engines` start there). */
export const NEWEST_NODE = 22;

/** The package a subject imports for each anchor library: the child of a newest row switches it before setup. */
const modules = { cockatiel: 'cockatiel', opossum: 'opossum' };

/** The aliases the newest releases are installed under (benchmarks/package.json). */
const newest = { cockatiel: 'cockatiel-4', opossum: 'opossum-10' } as const;

/** Loads cockatiel: 3.2.1, or 4 in a newest row's child. */
export async function loadCockatiel(): Promise<typeof import('cockatiel')> {
  return (await import(modules.cockatiel)) as typeof import('cockatiel');
}

/** Loads opossum: 9.0.0, or 10 in a newest row's child. */
export async function loadOpossum(): Promise<{ default: typeof import('opossum') }> {
  return (await import(modules.opossum)) as { default: typeof import('opossum') };
}

/**
 * The same subject as a row of its own that runs on Node {@link NEWEST_NODE}:
 * a cockatiel or opossum subject loads that library's newest release, one of
 * ours loads the same built core (so ours and theirs compare on one Node too).
 */
export function onNewestNode(subject: SubjectDef): SubjectDef {
  const library = subject.library;
  if (library === 'cockatiel' || library === 'opossum') {
    const alias = newest[library];
    return {
      ...subject,
      id: `${subject.id}@${alias.slice(library.length + 1)}`,
      label: subject.label.replace(library, `${library} ${alias.slice(library.length + 1)}`),
      library: alias,
      node: NEWEST_NODE,
      setup: () => {
        modules[library] = alias;
        return subject.setup();
      },
    };
  }
  return { ...subject, id: `${subject.id}@node${NEWEST_NODE}`, node: NEWEST_NODE };
}

/** A scenario's subjects, followed by a Node {@link NEWEST_NODE} row for `ours` and for each cockatiel and opossum subject. */
export function withNewest(subjects: readonly SubjectDef[]): SubjectDef[] {
  const anchored = subjects.filter((s) => s.library === 'cockatiel' || s.library === 'opossum' || s.id === 'ours');
  return [...subjects, ...anchored.map(onNewestNode)];
}

/**
 * The targets of the Node 20 rows, repeated for the Node {@link NEWEST_NODE}
 * rows: every ratio target of `ours` against a cockatiel or opossum subject
 * gets the same bound for `ours@node22` against that subject's newest release.
 */
export function withNewestTargets(subjects: readonly SubjectDef[], targets: readonly TargetDef[]): TargetDef[] {
  const newestOf = (id: string): string | undefined => {
    const subject = subjects.find((s) => s.id === id);
    if (subject === undefined || (subject.library !== 'cockatiel' && subject.library !== 'opossum')) return undefined;
    const newestId = onNewestNode(subject).id;
    return subjects.some((s) => s.id === newestId) ? newestId : undefined;
  };
  const oursNewest = `ours@node${NEWEST_NODE}`;
  if (!subjects.some((s) => s.id === oursNewest)) return [...targets];
  const added: TargetDef[] = [];
  for (const target of targets) {
    if ((target.kind !== undefined && target.kind !== 'ratio') || target.subject !== 'ours') continue;
    const against = newestOf(target.against);
    if (against === undefined) continue;
    added.push({ ...target, subject: oursNewest, against });
  }
  return [...targets, ...added];
}
