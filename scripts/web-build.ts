/**
 * `npm run web:build`: the console's production build (Vite) into web/dist,
 * made only when it is missing or stale, i.e. when the fingerprint of its
 * sources (web/index.html, web/vite.config.ts, web/src/**, package-lock.json)
 * differs from the one the last build wrote. `npm start` runs it first and
 * the console tests call `ensureConsoleBuild()`, so nobody builds by hand.
 * `--force` builds anyway. The build goes to a temporary folder that then
 * replaces web/dist, so a server never serves half a build.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const WEB = path.join(ROOT, 'web');
export const DIST = path.join(WEB, 'dist');
const STAMP = '.build-fingerprint';

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)])),
  );
  return nested.flat();
}

/** A hash of everything the build reads, by content (a fresh clone has fresh mtimes). */
export async function sourceFingerprint(): Promise<string> {
  const files = [
    path.join(WEB, 'index.html'),
    path.join(WEB, 'vite.config.ts'),
    path.join(ROOT, 'package-lock.json'),
    ...(await filesUnder(path.join(WEB, 'src'))),
  ].sort();
  const hash = createHash('sha256');
  for (const file of files)
    hash
      .update(path.relative(ROOT, file))
      .update('\0')
      .update(await readFile(file))
      .update('\0');
  return hash.digest('hex');
}

export async function builtFingerprint(): Promise<string | undefined> {
  return readFile(path.join(DIST, STAMP), 'utf8').catch(() => undefined);
}

/** Builds the console unless web/dist is already the build of the current sources. Returns whether it built. */
export async function ensureConsoleBuild(
  options: { force?: boolean; log?: (line: string) => void } = {},
): Promise<boolean> {
  const log = options.log ?? ((line: string) => console.log(`[web] ${line}`));
  const fingerprint = await sourceFingerprint();
  if (!options.force && (await builtFingerprint()) === fingerprint) return false;
  log('building the console (Vite)…');
  const started = Date.now();
  const { build } = await import('vite');
  const outDir = path.join(WEB, `.dist-${process.pid}-${Date.now()}`);
  // A production bundle (React's production JSX runtime too) even when built
  // from inside the test run, whose NODE_ENV is "test".
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({
      configFile: path.join(WEB, 'vite.config.ts'),
      mode: 'production',
      build: { outDir },
      logLevel: 'warn',
    });
    await writeFile(path.join(outDir, STAMP), fingerprint);
    await rm(DIST, { recursive: true, force: true });
    await mkdir(path.dirname(DIST), { recursive: true });
    await rename(outDir, DIST);
  } finally {
    if (nodeEnv === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = nodeEnv;
    await rm(outDir, { recursive: true, force: true });
  }
  log(`console built in ${((Date.now() - started) / 1000).toFixed(1)} s → web/dist`);
  return true;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const built = await ensureConsoleBuild({ force: process.argv.includes('--force') });
  if (!built) console.log('[web] the console build is up to date');
}
