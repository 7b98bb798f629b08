/**
 * Text the platform can store exactly as it was given.
 *
 * Two kinds of JavaScript string cannot survive a trip to PostgreSQL:
 * - a NUL character (U+0000): `text` and `jsonb` refuse it, so an activity
 *   writing it fails on every retry and its case jams for ever;
 * - a lone UTF-16 surrogate (`\ud800` in JSON): UTF-8 cannot encode it, so the
 *   driver stores U+FFFD instead, and whatever was checked or hashed before
 *   the write (an audit event's hash) no longer matches what was stored.
 *
 * The API refuses such text where it comes in (`findBadText`); the audit
 * chain also normalises what reaches it by another way (`wellFormedText`).
 */

export type TextProblem = 'nul' | 'lone_surrogate';

export const TEXT_PROBLEMS: Record<TextProblem, string> = {
  nul: 'a NUL character (U+0000)',
  lone_surrogate: 'a lone UTF-16 surrogate (not valid Unicode)',
};

// Without the `u` flag the regex sees UTF-16 code units, which is what a lone surrogate is.
const NUL = /\u0000/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const BAD_TEXT_ALL = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** What is wrong with one string, or null when it can be stored as it is. */
export function textProblem(text: string): TextProblem | null {
  if (NUL.test(text)) return 'nul';
  if (LONE_SURROGATE.test(text)) return 'lone_surrogate';
  return null;
}

export interface BadText {
  /** Where, in the API's field notation: `body.rectificationItems.0.title`. */
  path: string;
  problem: TextProblem;
  /** The offending text is an object key (a field name), not a value. */
  inKey: boolean;
}

/**
 * A key as it appears in a field path. Escaped like a JSON string, so a path
 * naming a NUL or a lone surrogate shows `\u0000` or `\ud800`, not the character.
 */
export function pathSegment(key: string): string {
  return JSON.stringify(key).slice(1, -1);
}

/**
 * The first string (value or object key) in `value` that cannot be stored,
 * in document order, with its path below `root`; null when there is none.
 * Iterative, so a deeply nested body cannot overflow the stack.
 */
export function findBadText(value: unknown, root: string): BadText | null {
  // A stack of what is still to look at; a key is looked at just before its value.
  const pending: Array<{ text: string; path: string; inKey: true } | { value: unknown; path: string; inKey: false }> = [
    { value, path: root, inKey: false },
  ];
  while (pending.length > 0) {
    const item = pending.pop()!;
    const current = item.inKey ? item.text : item.value;
    if (typeof current === 'string') {
      const problem = textProblem(current);
      if (problem) return { path: item.path, problem, inKey: item.inKey };
    } else if (Array.isArray(current)) {
      for (let i = current.length - 1; i >= 0; i--)
        pending.push({ value: current[i], path: `${item.path}.${i}`, inKey: false });
    } else if (current !== null && typeof current === 'object') {
      const entries = Object.entries(current);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, child] = entries[i]!;
        const path = `${item.path}.${pathSegment(key)}`;
        pending.push({ value: child, path, inKey: false }, { text: key, path, inKey: true });
      }
    }
  }
  return null;
}

/**
 * The string with every NUL and lone surrogate replaced by U+FFFD, the
 * replacement character — what `String.prototype.toWellFormed()` does for
 * surrogates, extended to NUL — so it is stored exactly as given.
 */
export function wellFormedText(text: string): string {
  return textProblem(text) ? text.replace(BAD_TEXT_ALL, '\uFFFD') : text;
}

/**
 * `wellFormedText` applied to every string and key of plain JSON-like data.
 * Other objects (a Date) are kept as they are.
 */
export function wellFormedValue<T>(value: T): T {
  if (typeof value === 'string') return wellFormedText(value) as T;
  if (Array.isArray(value)) return value.map(wellFormedValue) as T;
  if (value !== null && typeof value === 'object') {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return value;
    return Object.fromEntries(
      Object.entries(value).map(([key, child]) => [wellFormedText(key), wellFormedValue(child)]),
    ) as T;
  }
  return value;
}
