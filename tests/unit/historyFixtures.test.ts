/**
 * The replay fixtures are append-only: each committed one keeps the hash the
 * manifest recorded, none disappears, and a new one comes with its line
 * (tests/fixtures/histories/README.md).
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const dir = path.resolve(import.meta.dirname, '../fixtures/histories');
const manifest: Record<string, string> = JSON.parse(readFileSync(path.join(dir, 'MANIFEST.json'), 'utf8'));
const files = readdirSync(dir).filter((f) => f.endsWith('.json') && f !== 'MANIFEST.json');

describe('replay fixtures are append-only', () => {
  it('every fixture has its manifest line, and every line its fixture', () => {
    expect(files.sort()).toEqual(Object.keys(manifest).sort());
  });

  it.each(Object.keys(manifest))('%s is unchanged since it was committed', (file) => {
    const hash = createHash('sha256')
      .update(readFileSync(path.join(dir, file)))
      .digest('hex');
    expect(hash, `${file} changed: use patched() and record a new fixture instead`).toBe(manifest[file]);
  });
});
