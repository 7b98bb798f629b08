/**
 * `npm run fixtures:manifest`: adds the SHA-256 of each new replay fixture to
 * tests/fixtures/histories/MANIFEST.json. It never changes an existing line:
 * committed fixtures are append-only (see that folder's README).
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const dir = path.resolve(import.meta.dirname, '../tests/fixtures/histories');
const manifestPath = path.join(dir, 'MANIFEST.json');
const manifest: Record<string, string> = existsSync(manifestPath) ? JSON.parse(readFileSync(manifestPath, 'utf8')) : {};
const sha256 = (file: string) =>
  createHash('sha256')
    .update(readFileSync(path.join(dir, file)))
    .digest('hex');

let added = 0;
const changed: string[] = [];
for (const file of readdirSync(dir)
  .filter((f) => f.endsWith('.json') && f !== 'MANIFEST.json')
  .sort()) {
  const hash = sha256(file);
  if (!manifest[file]) {
    manifest[file] = hash;
    added += 1;
    console.log(`added ${file}`);
  } else if (manifest[file] !== hash) {
    changed.push(file);
  }
}
const sorted = Object.fromEntries(Object.entries(manifest).sort(([a], [b]) => a.localeCompare(b)));
writeFileSync(manifestPath, `${JSON.stringify(sorted, null, 2)}\n`);
console.log(`${added} fixture(s) added; ${Object.keys(sorted).length} in the manifest`);
if (changed.length) {
  console.error(`changed since committed (append-only; see the README there): ${changed.join(', ')}`);
  process.exit(1);
}
