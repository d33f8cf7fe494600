import type { status as Status } from '@grpc/grpc-js';
import { configObject, describeValue } from '@resilience/core/validate';

/**
 * The options object (or `{}`), after checking that it holds no key but
 * `known`: an unknown key is a `TypeError` naming it (and, for a grpc-js or
 * peer-library option, the one to use here).
 */
export function optionsObject<O extends object>(
  owner: string,
  options: O | undefined,
  known: readonly string[],
  hints: Readonly<Record<string, string>> = {},
): Partial<O> {
  const opts = configObject(owner, options, 'options') as Partial<O>;
  for (const key of Object.keys(opts)) {
    if (!known.includes(key)) {
      const hint = Object.hasOwn(hints, key) ? hints[key] : undefined;
      throw new TypeError(
        `${owner}: unknown option ${JSON.stringify(key)}${hint === undefined ? '' : ` (${hint})`}; known options: ${known.join(', ')}`,
      );
    }
  }
  return opts;
}

const CODE_COUNT = 17;

/**
 * A set of status codes as a lookup table indexed by code, from an array of
 * codes (numbers of grpc-js's `status`); `fallback` when `undefined`.
 */
export function codesOption(
  owner: string,
  field: string,
  value: unknown,
  fallback: readonly Status[],
): readonly boolean[] {
  const codes = value === undefined ? fallback : value;
  if (!Array.isArray(codes)) {
    throw new TypeError(`${owner}: ${field} must be an array of grpc status codes, got ${describeValue(value)}`);
  }
  const table = new Array<boolean>(CODE_COUNT).fill(false);
  for (const code of codes as unknown[]) {
    if (typeof code !== 'number' || !Number.isInteger(code) || code < 0 || code >= CODE_COUNT) {
      throw new RangeError(
        `${owner}: ${field} must hold grpc status codes (integers 0 to 16, as in grpc-js's status), got ${describeValue(code)}`,
      );
    }
    table[code] = true;
  }
  return table;
}

/** Whether `code` is in a table built by {@link codesOption}. */
export function hasCode(table: readonly boolean[], code: number): boolean {
  return table[code] === true;
}
