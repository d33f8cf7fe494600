/**
 * Throws a `TypeError` naming the first key of `config` that is not in
 * `known`; where the key is a well-known option of another library, the
 * message names the option to use here.
 */
export function knownKeys(
  owner: string,
  config: object,
  known: readonly string[],
  hints: Readonly<Record<string, string>> = {},
): void {
  for (const key of Object.keys(config)) {
    if (known.includes(key)) continue;
    const hint = Object.hasOwn(hints, key) ? ` (${hints[key]})` : '';
    throw new TypeError(`${owner}: unknown option ${JSON.stringify(key)}${hint}; known options: ${known.join(', ')}`);
  }
}

/** The longest delay one platform timer holds. */
export const MAX_TIMER_MS = 2_147_483_647;
