/** Options of peer libraries a user may carry over, and what to use here instead. */
export type PeerHints = Readonly<Record<string, string>>;

/**
 * Throws a `TypeError` naming the first own key of `options` that the
 * middleware does not know, so a misspelt option or one carried over from
 * another library (express-rate-limit's `windowMs`, `max`) is never silently
 * ignored; for a well-known peer option the message says what to use here.
 */
export function checkOptionKeys(owner: string, options: object, known: readonly string[], hints: PeerHints): void {
  for (const key in options) {
    if (!Object.hasOwn(options, key) || known.includes(key)) continue;
    const hint = Object.hasOwn(hints, key) ? hints[key] : undefined;
    throw new TypeError(
      `${owner}: unknown option ${JSON.stringify(key)} (${hint ?? `known options: ${known.join(', ')}`})`,
    );
  }
}

/** The options every rejecting middleware shares. */
export const REJECTION_KEYS: readonly string[] = ['statusCode', 'body'];

/** Hints shared by the middlewares: the response options of express-rate-limit and friends. */
export const REJECTION_HINTS: PeerHints = {
  message: `use "body" (a string, an object sent as JSON, or (req, error) => either)`,
  status: `use "statusCode"`,
  handler: `use "statusCode" and "body" (a function (req, error) => body for a computed answer)`,
};
