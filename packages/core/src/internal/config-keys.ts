/**
 * Unknown configuration keys are errors, not silently ignored: a misspelt
 * option or one carried over from another library would otherwise leave a
 * default in place that the user believes they changed.
 */

/** The observability options every pattern accepts. */
export const OBSERVABILITY_KEYS: readonly string[] = ['name', 'logger', 'tracer', 'metrics'];

/** For an option of a peer library (opossum, p-retry, cockatiel…): what to use here instead. */
export type PeerHints = Readonly<Record<string, string>>;

/**
 * The set of keys a pattern knows, built once per pattern: its own options
 * plus the observability options.
 */
export function knownKeys(own: readonly string[]): ReadonlySet<string> {
  return new Set([...own, ...OBSERVABILITY_KEYS]);
}

/**
 * Throws a `TypeError` naming the first own enumerable key of `config` that is
 * not in `known`; for a well-known option of a peer library the message says
 * which option to use here. A key whose value is `undefined` is checked too.
 * `prefix` names a nested object (`"window."`).
 */
export function checkConfigKeys(
  owner: string,
  config: object,
  known: ReadonlySet<string>,
  hints: PeerHints,
  prefix = '',
): void {
  for (const key in config) {
    if (!Object.hasOwn(config, key) || known.has(key)) continue;
    const hint = Object.hasOwn(hints, key) ? hints[key] : undefined;
    const advice = hint === undefined ? `known options: ${[...known].map((k) => prefix + k).join(', ')}` : hint;
    throw new TypeError(`${owner}: unknown option ${JSON.stringify(prefix + key)} (${advice})`);
  }
}
