// The portable suite's test harness: a describe / it / expect subset that runs
// on the runtime's own test runner (`node --test`, `bun test`, `deno test`),
// so the same files test the built core on Node, Bun and Deno. No assertion
// library: `expect` is written here, small and std-free.
//
// `describe` only prefixes names (Deno.test has no nesting); each `it` is one
// top-level test of the runtime's runner.

/** The runtime running the suite. */
export type Runtime = 'bun' | 'deno' | 'node';

interface DenoTestApi {
  test(definition: {
    name: string;
    fn: () => Promise<void>;
    ignore?: boolean;
    sanitizeOps?: boolean;
    sanitizeResources?: boolean;
  }): void;
}

type Register = (name: string, fn: () => Promise<void>, skip: string | undefined) => void;

const deno = (globalThis as { Deno?: DenoTestApi }).Deno;
const bun = (globalThis as { Bun?: unknown }).Bun;

/** Which runtime this is: Bun and Deno announce themselves through a global, anything else is Node. */
export const runtime: Runtime = bun !== undefined ? 'bun' : deno !== undefined ? 'deno' : 'node';

// The runner modules are loaded by name at run time: `bun:test` exists only on Bun.
const runnerModule: Record<Exclude<Runtime, 'deno'>, string> = { bun: 'bun:test', node: 'node:test' };

async function registrar(): Promise<Register> {
  if (deno !== undefined) {
    // Deno's sanitizers stay on: a test that leaves a timer or a resource behind fails.
    return (name, fn, skip) => deno.test({ name, fn, ignore: skip !== undefined });
  }
  if (runtime === 'bun') {
    const mod = (await import(runnerModule.bun)) as {
      test: ((name: string, fn: () => Promise<void>) => void) & {
        skip: (name: string, fn: () => Promise<void>) => void;
      };
    };
    return (name, fn, skip) => (skip === undefined ? mod.test(name, fn) : mod.test.skip(name, fn));
  }
  const mod = (await import(runnerModule.node)) as {
    test: (name: string, options: { skip?: string }, fn: () => Promise<void>) => void;
  };
  return (name, fn, skip) => mod.test(name, skip === undefined ? {} : { skip }, fn);
}

const register = await registrar();
const prefixes: string[] = [];

/** Groups tests: `name` prefixes the name of every test registered inside `body`. */
export function describe(name: string, body: () => void): void {
  prefixes.push(name);
  try {
    body();
  } finally {
    prefixes.pop();
  }
}

/** Options of one test. */
export interface ItOptions {
  /**
   * Runtimes this test cannot run on, each with the reason (it is shown as the skip reason).
   * @default {}
   */
  readonly skipOn?: Partial<Record<Runtime, string>>;
}

/** Registers one test with the runtime's runner. */
export function it(name: string, fn: () => void | Promise<void>, options: ItOptions = {}): void {
  const full = [...prefixes, name].join(' > ');
  const reason = options.skipOn?.[runtime];
  const skip = reason === undefined ? undefined : `not on ${runtime}: ${reason}`;
  register(skip === undefined ? full : `${full} (skipped ${skip})`, async () => fn(), skip);
}

/** Thrown by a failed `expect`. */
export class AssertionError extends Error {
  override readonly name = 'AssertionError';
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return `[function ${value.name || 'anonymous'}]`;
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b) || Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  const keysA = Object.keys(a);
  const keysB = Object.keys(b);
  if (keysA.length !== keysB.length) return false;
  return keysA.every(
    (key) =>
      Object.hasOwn(b, key) && deepEqual((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]),
  );
}

/** What an error is expected to be: its class, a substring of its message, or a pattern for the message. */
export type ErrorMatcher = (abstract new (...args: never[]) => unknown) | string | RegExp;

function matchError(error: unknown, expected: ErrorMatcher | undefined, what: string): void {
  if (expected === undefined) return;
  if (typeof expected === 'function') {
    if (!(error instanceof expected)) throw new AssertionError(`${what} ${show(error)}, not a ${expected.name}`);
    return;
  }
  const message = error instanceof Error ? error.message : String(error);
  const ok = typeof expected === 'string' ? message.includes(expected) : expected.test(message);
  if (!ok) throw new AssertionError(`${what} ${show(error)}, whose message does not match ${String(expected)}`);
}

/** The assertions on one value. */
export interface Expectation {
  /** Same value (`Object.is`). */
  toBe(expected: unknown): void;
  /** Same own enumerable structure, recursively, with the same prototypes. */
  toEqual(expected: unknown): void;
  /** An instance of `type`. */
  toBeInstanceOf(type: abstract new (...args: never[]) => unknown): void;
  /** A number above `n`. */
  toBeGreaterThan(n: number): void;
  /** A number at most `n`. */
  toBeLessThanOrEqual(n: number): void;
  /** A function that throws synchronously, with an error matching `expected` when given. */
  toThrow(expected?: ErrorMatcher): void;
}

/** Assertions on `actual`. */
export function expect(actual: unknown): Expectation {
  return {
    toBe(expected) {
      if (!Object.is(actual, expected)) throw new AssertionError(`expected ${show(expected)}, got ${show(actual)}`);
    },
    toEqual(expected) {
      if (!deepEqual(actual, expected)) throw new AssertionError(`expected ${show(expected)}, got ${show(actual)}`);
    },
    toBeInstanceOf(type) {
      if (!(actual instanceof type)) throw new AssertionError(`expected a ${type.name}, got ${show(actual)}`);
    },
    toBeGreaterThan(n) {
      if (!(typeof actual === 'number' && actual > n)) throw new AssertionError(`expected > ${n}, got ${show(actual)}`);
    },
    toBeLessThanOrEqual(n) {
      if (!(typeof actual === 'number' && actual <= n)) {
        throw new AssertionError(`expected <= ${n}, got ${show(actual)}`);
      }
    },
    toThrow(expected) {
      if (typeof actual !== 'function') throw new AssertionError(`expected a function, got ${show(actual)}`);
      try {
        (actual as () => unknown)();
      } catch (error) {
        matchError(error, expected, 'threw');
        return;
      }
      throw new AssertionError('expected the function to throw; it returned');
    },
  };
}

/** Awaits `promise`, expects it to reject (with an error matching `expected` when given) and returns the reason. */
export async function rejects(promise: PromiseLike<unknown>, expected?: ErrorMatcher): Promise<unknown> {
  let value: unknown;
  try {
    value = await promise;
  } catch (error) {
    matchError(error, expected, 'rejected with');
    return error;
  }
  throw new AssertionError(`expected a rejection, got the value ${show(value)}`);
}

/**
 * Records how `promise` settles without awaiting it, so a test can check that a
 * call is still pending after some fake time passed.
 */
export function track<T>(promise: Promise<T>): {
  readonly settled: () => boolean;
  readonly result: Promise<{ value?: T; error?: unknown }>;
} {
  let done = false;
  const result = promise.then(
    (value) => {
      done = true;
      return { value };
    },
    (error: unknown) => {
      done = true;
      return { error };
    },
  );
  return { settled: () => done, result };
}

/** Lets pending promise callbacks run (a few microtask turns), without moving any clock. */
export async function flush(turns = 20): Promise<void> {
  for (let i = 0; i < turns; i++) await Promise.resolve();
}
