/**
 * Layering: the API calls Temporal and reads the read model; it never
 * orchestrates, so it never imports activities/ (the workflows' I/O). Client
 * helpers that start cases live in platform/cases.ts, reads in db/.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../platform/config';

/** Every module specifier a TypeScript source names: static and type imports, re-exports, dynamic imports. */
export function importSpecifiers(source: string): string[] {
  const patterns = [
    /\bimport\s+(?:type\s+)?[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/g,
    /\bexport\s+(?:type\s+)?[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/g,
    /\bimport\s*['"]([^'"]+)['"]/g,
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  return patterns.flatMap((pattern) => [...source.matchAll(pattern)].map((m) => m[1]!));
}

function sourcesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return sourcesUnder(full);
    return /\.(ts|tsx|mts|js)$/.test(name) ? [full] : [];
  });
}

/** The imports of `file` that resolve into `layer` (a top-level folder of the project). */
function importsInto(file: string, layer: string): string[] {
  const target = path.join(PROJECT_ROOT, layer) + path.sep;
  return importSpecifiers(readFileSync(file, 'utf8')).filter((spec) => {
    if (!spec.startsWith('.')) return false;
    const resolved = path.resolve(path.dirname(file), spec);
    return resolved === target.slice(0, -1) || resolved.startsWith(target);
  });
}

describe('layering', () => {
  it('finds every kind of import, so the check below cannot pass by missing one', () => {
    const source = [
      "import { a } from '../../activities/one';",
      "import type { B } from '../../activities/two';",
      "import {\n  c,\n  d,\n} from '../../activities/three';",
      "export { e } from '../../activities/four';",
      "import '../../activities/five';",
      "const f = await import('../../activities/six');",
    ].join('\n');
    expect(importSpecifiers(source)).toEqual(
      expect.arrayContaining(['one', 'two', 'three', 'four', 'five', 'six'].map((n) => `../../activities/${n}`)),
    );
  });

  it('no file under api/ imports from activities/', () => {
    const files = sourcesUnder(path.join(PROJECT_ROOT, 'api'));
    expect(files.length).toBeGreaterThan(10);
    const offending = files.flatMap((file) =>
      importsInto(file, 'activities').map((spec) => `${path.relative(PROJECT_ROOT, file)} imports ${spec}`),
    );
    expect(offending).toEqual([]);
  });
});
