/**
 * Loads our patterns from the BUILT `@resilience/core` (its `dist`), the way
 * users get them. A class that has not landed yet is reported, never faked.
 */

/** The call shape every pattern shares (API.md), as much of it as the benchmarks use. */
export interface Executable {
  execute(fn: (ctx: never) => Promise<number>, options?: object): Promise<number>;
}

/** A class of ours, constructed with a config object. */
export type PatternClass<I = Executable> = new (config: Record<string, unknown>) => I;

/** `@resilience/core` as loaded at run time. */
export type CoreModule = Readonly<Record<string, unknown>>;

let core: Promise<CoreModule> | undefined;

/**
 * Imports one of our packages by a name the compiler does not resolve, so the
 * benchmarks compile before a pattern (or a whole package) has landed.
 */
export function importOurs(
  name:
    | '@resilience/core'
    | '@resilience/express'
    | '@resilience/fastify'
    | '@resilience/fetch'
    | '@resilience/grpc'
    | '@resilience/hono'
    | '@resilience/metrics-prometheus'
    | '@resilience/otel',
): Promise<CoreModule> {
  const specifier: string = name;
  return import(specifier) as Promise<CoreModule>;
}

/** Imports the built core once per process. */
export function loadCore(): Promise<CoreModule> {
  core ??= importOurs('@resilience/core');
  return core;
}

/** An export of the core, or the reason it is not available yet. */
export async function ours<I = Executable>(name: string): Promise<PatternClass<I> | string> {
  const mod = await loadCore();
  const value = mod[name];
  return typeof value === 'function'
    ? (value as PatternClass<I>)
    : `@resilience/core has no ${name} export yet: not yet available`;
}

/** Loads several exports at once; the first missing one is reported. */
export async function oursAll(names: readonly string[]): Promise<Record<string, PatternClass> | string> {
  const found: Record<string, PatternClass> = {};
  for (const name of names) {
    const value = await ours(name);
    if (typeof value === 'string') return value;
    found[name] = value;
  }
  return found;
}
