/**
 * The construction-time checks every pattern uses, for adapter authors and
 * your own policies: each returns the value (or the default for `undefined`)
 * and throws a `TypeError` or `RangeError` that names the owner, the option
 * and the value it got, worded like the core's own
 * (`Bulkhead: maxConcurrent must be an integer >= 1, got -1`).
 *
 * @example
 * ```ts
 * import { configObject, numberOption } from '@resilience/core/validate';
 *
 * const opts = configObject('rateLimit', options, 'options');
 * const cost = numberOption('rateLimit', 'cost', opts.cost, 1, { min: 1, integer: true });
 * ```
 *
 * @packageDocumentation
 */

export { MAX_TIMER_MS } from '../internal/timers.js';
export {
  booleanOption,
  clockOption,
  configObject,
  describeValue,
  functionOption,
  type NumberRule,
  numberOption,
  oneOfOption,
  requiredNumber,
  requireMethod,
  stringOption,
} from '../internal/validate.js';
