import { type Clock, systemClock } from '../clock/clock.js';

/**
 * Construction-time checks shared by every pattern. Each throws an error that
 * names the pattern, the option and the value it got, never a silent default.
 */

/** A short description of a bad value for an error message: strings quoted, objects and functions by kind. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function') return 'a function';
  if (value !== null && typeof value === 'object') return isArray(value) ? 'an array' : 'an object';
  return String(value);
}

/** `Array.isArray`, which throws for a revoked proxy: that is no array. */
function isArray(value: object): boolean {
  try {
    return Array.isArray(value);
  } catch {
    return false;
  }
}

/** The constraints a numeric option may have. */
export interface NumberRule {
  /** Smallest allowed value (inclusive unless `minExclusive`). */
  readonly min?: number;
  /** The minimum itself is not allowed. */
  readonly minExclusive?: boolean;
  /** Largest allowed value (inclusive). */
  readonly max?: number;
  /** Only whole numbers. */
  readonly integer?: boolean;
  /** `Infinity` is allowed (it is otherwise refused, like `NaN`). */
  readonly allowInfinity?: boolean;
}

function ruleText(rule: NumberRule): string {
  const kind = rule.integer ? 'an integer' : 'a finite number';
  const parts: string[] = [];
  if (rule.min !== undefined) parts.push(`${rule.minExclusive ? '>' : '>='} ${rule.min}`);
  if (rule.max !== undefined) parts.push(`<= ${rule.max}`);
  const bounds = parts.length > 0 ? ` ${parts.join(' and ')}` : '';
  return `${rule.allowInfinity ? `${kind} (or Infinity)` : kind}${bounds}`;
}

/**
 * Returns `value` when it is a number obeying `rule`, `fallback` when it is
 * `undefined`; throws a `TypeError` (not a number) or a `RangeError` otherwise.
 */
export function numberOption(
  owner: string,
  field: string,
  value: unknown,
  fallback: number,
  rule: NumberRule = {},
): number {
  if (value === undefined) return fallback;
  return requiredNumber(owner, field, value, rule);
}

/** Like {@link numberOption} for an option with no default. */
export function requiredNumber(owner: string, field: string, value: unknown, rule: NumberRule = {}): number {
  if (typeof value !== 'number') {
    throw new TypeError(`${owner}: ${field} must be ${ruleText(rule)}, got ${describeValue(value)}`);
  }
  const ok =
    !Number.isNaN(value) &&
    (Number.isFinite(value) || (rule.allowInfinity === true && value === Number.POSITIVE_INFINITY)) &&
    (!rule.integer || Number.isInteger(value) || value === Number.POSITIVE_INFINITY) &&
    (rule.min === undefined || (rule.minExclusive ? value > rule.min : value >= rule.min)) &&
    (rule.max === undefined || value <= rule.max);
  if (!ok) throw new RangeError(`${owner}: ${field} must be ${ruleText(rule)}, got ${describeValue(value)}`);
  return value;
}

/** Returns `value` when it is a function or `undefined`; throws a `TypeError` otherwise. */
export function functionOption<F extends (...args: never[]) => unknown>(
  owner: string,
  field: string,
  value: F | undefined,
): F | undefined {
  if (value !== undefined && typeof value !== 'function') {
    throw new TypeError(`${owner}: ${field} must be a function, got ${describeValue(value)}`);
  }
  return value;
}

/** Returns `value` when it is one of `allowed`, `fallback` when `undefined`; throws a `RangeError` otherwise. */
export function oneOfOption<const V>(
  owner: string,
  field: string,
  value: unknown,
  allowed: readonly V[],
  fallback: V,
): V {
  if (value === undefined) return fallback;
  if (!(allowed as readonly unknown[]).includes(value)) {
    const list = allowed.map((a) => (typeof a === 'string' ? `"${a}"` : String(a))).join(', ');
    throw new RangeError(`${owner}: ${field} must be one of ${list}, got ${describeValue(value)}`);
  }
  return value as V;
}

/** Returns `value` when it is a boolean, `fallback` when `undefined`; throws a `TypeError` otherwise. */
export function booleanOption(owner: string, field: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean')
    throw new TypeError(`${owner}: ${field} must be a boolean, got ${describeValue(value)}`);
  return value;
}

/** Returns `value` when it is a string, `fallback` when `undefined`; throws a `TypeError` otherwise. */
export function stringOption(owner: string, field: string, value: unknown, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string')
    throw new TypeError(`${owner}: ${field} must be a string, got ${describeValue(value)}`);
  return value;
}

/**
 * Throws a `TypeError` when `config` is neither an object nor `undefined`;
 * `what` names the argument in the message (`config`, `options`).
 */
export function configObject<C extends object>(
  owner: string,
  config: C | undefined,
  what = 'config',
): C | Record<string, never> {
  if (config === undefined) return {};
  if (config === null || typeof config !== 'object') {
    throw new TypeError(`${owner}: ${what} must be an object, got ${describeValue(config)}`);
  }
  return config;
}

/** Throws a `TypeError` unless `target` has a method named `method` (`argument` names it in the message). */
export function requireMethod(owner: string, argument: string, target: unknown, method: string): void {
  if (
    target === null ||
    (typeof target !== 'object' && typeof target !== 'function') ||
    typeof (target as Record<string, unknown>)[method] !== 'function'
  ) {
    const article = /^[aeiou]/.test(method) ? 'an' : 'a';
    throw new TypeError(`${owner}: ${argument} must have ${article} ${method}() method, got ${describeValue(target)}`);
  }
}

/**
 * Returns `value` when it looks like a {@link Clock}, `systemClock` when it is
 * `undefined`; throws a `TypeError` naming the owner otherwise.
 */
export function clockOption(owner: string, value: unknown): Clock {
  if (value === undefined) return systemClock;
  const clock = value as Partial<Clock> | null;
  if (
    typeof clock !== 'object' ||
    clock === null ||
    typeof clock.now !== 'function' ||
    typeof clock.setTimeout !== 'function' ||
    typeof clock.clearTimeout !== 'function'
  ) {
    throw new TypeError(
      `${owner}: clock must be an object with now(), setTimeout() and clearTimeout(), got ${describeValue(value)}`,
    );
  }
  return clock as Clock;
}
