/**
 * Finds (or builds) the Temporal CLI that provides the dev server. These
 * machines cannot download it, so in order: $TEMPORAL_CLI_PATH, `temporal` on
 * PATH, the git-ignored tools folder, a Go build into that folder. When none
 * works the caller falls back to the SDK's own download (needs internet).
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from './config';

export const TEMPORAL_CLI_VERSION = 'v1.5.1';
export const TOOLS_BIN = path.join(PROJECT_ROOT, '.tools', 'bin');
const toolsBinary = path.join(TOOLS_BIN, 'temporal');

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && isExecutable(path.join(dir, name))) return path.join(dir, name);
  }
  return undefined;
}

export function findTemporalCli(): { path: string; source: string } | undefined {
  const fromEnv = process.env.TEMPORAL_CLI_PATH;
  if (fromEnv) {
    if (!isExecutable(fromEnv)) throw new Error(`TEMPORAL_CLI_PATH=${fromEnv} is not an executable file`);
    return { path: fromEnv, source: 'TEMPORAL_CLI_PATH' };
  }
  const found = onPath('temporal');
  if (found) return { path: found, source: 'PATH' };
  if (isExecutable(toolsBinary)) return { path: toolsBinary, source: '.tools/bin' };
  return undefined;
}

/** Builds the CLI with Go into .tools/bin, printing progress while it works. */
export async function buildTemporalCli(log: (line: string) => void = console.log): Promise<string | undefined> {
  const go = onPath('go') ?? (existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : undefined);
  if (!go) return undefined;
  mkdirSync(TOOLS_BIN, { recursive: true });
  log(
    `Building the Temporal CLI ${TEMPORAL_CLI_VERSION} with Go into .tools/bin (about 3–4 minutes on 2 cores, once)…`,
  );
  const started = Date.now();
  const child = spawn(go, ['install', `github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_VERSION}`], {
    env: { ...process.env, GOBIN: TOOLS_BIN, GOFLAGS: process.env.GOFLAGS ?? '-mod=mod' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let downloads = 0;
  let tail = '';
  const onData = (chunk: Buffer) => {
    const text = chunk.toString();
    tail = (tail + text).slice(-4000);
    downloads += (text.match(/go: downloading/g) ?? []).length;
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const ticker = setInterval(() => {
    const seconds = Math.round((Date.now() - started) / 1000);
    log(`  … still building (${seconds}s, ${downloads} modules downloaded)`);
  }, 15_000);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearInterval(ticker);
  if (code !== 0 || !isExecutable(toolsBinary)) {
    log(`The Go build of the Temporal CLI failed (exit ${code}):\n${tail}`);
    return undefined;
  }
  log(`Built ${toolsBinary} in ${Math.round((Date.now() - started) / 1000)}s`);
  return toolsBinary;
}

export async function ensureTemporalCli(log: (line: string) => void = console.log): Promise<string | undefined> {
  const found = findTemporalCli();
  if (found) return found.path;
  return buildTemporalCli(log);
}
