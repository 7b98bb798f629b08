/**
 * Case data travels as deltas. A step sends what it changed, never the whole
 * case: Temporal history and audit rows then grow with what happened, not
 * with the square of a case's activity, and a busy case lives for years
 * (a timeline of a thousand entries stays a thousand small writes).
 *
 * Top-level keys are the unit: a key whose value is unchanged is left out, a
 * list that only grew at its end sends just the new entries, anything else
 * sends the key's new value, and a key that disappeared is unset. The read
 * model applies the same three operations in SQL (activities/index.ts).
 */

export interface CaseDataDelta {
  /** Keys whose new value replaces the old one. */
  set?: Record<string, unknown>;
  /** Lists that grew at their end: only the new entries. */
  append?: Record<string, unknown[]>;
  /** Keys that are gone. */
  unset?: string[];
}

type Sent = { kind: 'value'; json: string } | { kind: 'list'; items: string[] };

const json = (value: unknown) => JSON.stringify(value) ?? 'null';

function describe(value: unknown): Sent {
  return Array.isArray(value) ? { kind: 'list', items: value.map(json) } : { kind: 'value', json: json(value) };
}

/** Remembers what the read model holds, and tells what a new state changes. */
export class CaseDataTracker {
  private readonly sent = new Map<string, Sent>();

  constructor(initial: Record<string, unknown> = {}) {
    for (const [key, value] of Object.entries(initial)) if (value !== undefined) this.sent.set(key, describe(value));
  }

  /** The delta from what was last sent to `next`, or undefined when nothing changed. */
  delta(next: Record<string, unknown>): CaseDataDelta | undefined {
    const set: Record<string, unknown> = {};
    const append: Record<string, unknown[]> = {};
    const unset: string[] = [];
    for (const [key, value] of Object.entries(next)) {
      if (value === undefined) continue;
      const before = this.sent.get(key);
      const now = describe(value);
      if (now.kind === 'list' && before?.kind === 'list' && now.items.length >= before.items.length) {
        if (before.items.every((item, i) => item === now.items[i])) {
          if (now.items.length > before.items.length) {
            append[key] = JSON.parse(`[${now.items.slice(before.items.length).join(',')}]`);
          }
          this.sent.set(key, now);
          continue;
        }
      } else if (now.kind === 'value' && before?.kind === 'value' && before.json === now.json) {
        continue;
      }
      set[key] = JSON.parse(now.kind === 'value' ? now.json : `[${now.items.join(',')}]`);
      this.sent.set(key, now);
    }
    for (const key of [...this.sent.keys()]) {
      if (next[key] === undefined) {
        unset.push(key);
        this.sent.delete(key);
      }
    }
    const delta: CaseDataDelta = {
      ...(Object.keys(set).length ? { set } : {}),
      ...(Object.keys(append).length ? { append } : {}),
      ...(unset.length ? { unset } : {}),
    };
    return Object.keys(delta).length ? delta : undefined;
  }
}

/** What the read model does with a delta, for code that holds the data in memory (tests, replays). */
export function applyCaseDataDelta(data: Record<string, unknown>, delta: CaseDataDelta): Record<string, unknown> {
  const result: Record<string, unknown> = { ...data, ...delta.set };
  for (const [key, items] of Object.entries(delta.append ?? {})) {
    const current = result[key];
    result[key] = [...(Array.isArray(current) ? current : []), ...items];
  }
  for (const key of delta.unset ?? []) delete result[key];
  return result;
}
