/**
 * The production profile's Temporal binaries: the real server and its SQL
 * schema tool at the version docker-compose.yml runs, built with Go into the
 * git-ignored tools folder once (about 2 minutes warm, longer cold) and
 * reused after that. The schemas and the config template come from the same
 * module in Go's module cache.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { goBinary, goInstall, isExecutable, TOOLS_BIN } from '../../platform/goTool';

export const TEMPORAL_SERVER_VERSION = 'v1.29.1';
const MODULE = 'go.temporal.io/server';
export const SERVER_BINARY = path.join(TOOLS_BIN, 'server');
export const SQL_TOOL_BINARY = path.join(TOOLS_BIN, 'sql');

/** The server module's folder in Go's module cache (schemas, config templates). */
export function serverModuleDir(): string {
  const go = goBinary();
  if (!go) throw new Error('Go is needed for the production profile (to build the Temporal server)');
  const modCache = spawnSync(go, ['env', 'GOMODCACHE'], { encoding: 'utf8' }).stdout.trim();
  const dir = path.join(modCache, `${MODULE}@${TEMPORAL_SERVER_VERSION}`);
  if (!existsSync(dir)) {
    // Built binaries but a cleaned module cache: fetch the module's source only.
    const got = spawnSync(go, ['mod', 'download', `${MODULE}@${TEMPORAL_SERVER_VERSION}`], { stdio: 'inherit' });
    if (got.status !== 0 || !existsSync(dir))
      throw new Error(`could not download ${MODULE}@${TEMPORAL_SERVER_VERSION}`);
  }
  return dir;
}

async function installServerTool(go: string, pkg: string, binary: string, log: (line: string) => void) {
  const started = Date.now();
  log(`building ${pkg}@${TEMPORAL_SERVER_VERSION} into .tools/bin (once; about 2 minutes warm)…`);
  const { code, tail } = await goInstall({
    go,
    target: `${pkg}@${TEMPORAL_SERVER_VERSION}`,
    log,
    progress: (seconds, downloads) =>
      `  … still building ${path.basename(binary)} (${seconds}s, ${downloads} modules downloaded)`,
  });
  if (code !== 0 || !isExecutable(binary))
    throw new Error(`go install ${pkg}@${TEMPORAL_SERVER_VERSION} failed (exit ${code}):\n${tail}`);
  log(`built ${binary} in ${Math.round((Date.now() - started) / 1000)}s`);
}

/** The server and the sql tool, built when missing. Throws when they cannot be had. */
export async function ensureServerTools(
  log: (line: string) => void = console.log,
): Promise<{ server: string; sql: string }> {
  if (isExecutable(SERVER_BINARY) && isExecutable(SQL_TOOL_BINARY))
    return { server: SERVER_BINARY, sql: SQL_TOOL_BINARY };
  const go = goBinary();
  if (!go) throw new Error('Go is needed to build the Temporal server for the production profile');
  mkdirSync(TOOLS_BIN, { recursive: true });
  if (!isExecutable(SERVER_BINARY)) await installServerTool(go, `${MODULE}/cmd/server`, SERVER_BINARY, log);
  if (!isExecutable(SQL_TOOL_BINARY)) await installServerTool(go, `${MODULE}/cmd/tools/sql`, SQL_TOOL_BINARY, log);
  return { server: SERVER_BINARY, sql: SQL_TOOL_BINARY };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const tools = await ensureServerTools((line) => console.log(`[production] ${line}`));
  console.log(`Temporal server: ${tools.server}\nTemporal sql tool: ${tools.sql}`);
}
