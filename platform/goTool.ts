/**
 * The Go-built tools the product runs and these machines cannot download —
 * the Temporal CLI's dev server (./temporalCli.ts), Mailpit (./mailpit.ts) —
 * found or built one way, in this order: the binary an environment variable
 * names, the tool on PATH, the git-ignored .tools/bin, or a `go install` into
 * .tools/bin (once; later runs find it there).
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from './config';

export const TOOLS_BIN = path.join(PROJECT_ROOT, '.tools', 'bin');

/** How often a build says it is still going: a first build downloads hundreds of modules. */
const PROGRESS_EVERY_MS = 15_000;

export function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && isExecutable(path.join(dir, name))) return path.join(dir, name);
  }
  return undefined;
}

/** The go command: on PATH, or where Go's own archive installs it. */
export function goBinary(): string | undefined {
  return onPath('go') ?? (existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : undefined);
}

export interface GoTool {
  /** What the log lines call it: "Mailpit", "the Temporal CLI". */
  name: string;
  /** Its file name, on PATH and in .tools/bin. */
  command: string;
  /** The environment variable naming a binary to use instead (MAILPIT_PATH…). */
  pathVariable: string;
  /** The package `go install` builds, at `version`. */
  goPackage: string;
  version: string;
  /** How long a first build takes, said as it starts: "about a minute; once". */
  buildTime: string;
  /** What the progress line says every 15 s, before the seconds and modules: "still building Mailpit". */
  progress: string;
}

export const toolsBinary = (tool: GoTool) => path.join(TOOLS_BIN, tool.command);

export function findGoTool(tool: GoTool): { path: string; source: string } | undefined {
  const fromEnv = process.env[tool.pathVariable];
  if (fromEnv) {
    if (!isExecutable(fromEnv)) throw new Error(`${tool.pathVariable}=${fromEnv} is not an executable file`);
    return { path: fromEnv, source: tool.pathVariable };
  }
  const found = onPath(tool.command);
  if (found) return { path: found, source: 'PATH' };
  if (isExecutable(toolsBinary(tool))) return { path: toolsBinary(tool), source: '.tools/bin' };
  return undefined;
}

/**
 * `go install <target>` into .tools/bin, saying every 15 s how long it has
 * run and how many modules it downloaded. Resolves with go's exit code and
 * the tail of its output (for the failure message).
 */
export async function goInstall(options: {
  go: string;
  /** `<package>@<version>`. */
  target: string;
  progress: (seconds: number, downloads: number) => string;
  log: (line: string) => void;
}): Promise<{ code: number | null; tail: string }> {
  mkdirSync(TOOLS_BIN, { recursive: true });
  const started = Date.now();
  const child = spawn(options.go, ['install', options.target], {
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
    options.log(options.progress(Math.round((Date.now() - started) / 1000), downloads));
  }, PROGRESS_EVERY_MS);
  const code = await new Promise<number | null>((resolve) => {
    child.on('error', () => resolve(null));
    child.on('close', resolve);
  });
  clearInterval(ticker);
  return { code, tail };
}

/** Builds the tool with Go into .tools/bin, printing progress while it works; undefined without Go or on failure. */
export async function buildGoTool(
  tool: GoTool,
  log: (line: string) => void = console.log,
): Promise<string | undefined> {
  const go = goBinary();
  if (!go) return undefined;
  const binary = toolsBinary(tool);
  log(`Building ${tool.name} ${tool.version} with Go into .tools/bin (${tool.buildTime})…`);
  const started = Date.now();
  const { code, tail } = await goInstall({
    go,
    target: `${tool.goPackage}@${tool.version}`,
    progress: (seconds, downloads) => `  … ${tool.progress} (${seconds}s, ${downloads} modules downloaded)`,
    log,
  });
  if (code !== 0 || !isExecutable(binary)) {
    log(`The Go build of ${tool.name} failed (exit ${code}):\n${tail}`);
    return undefined;
  }
  log(`Built ${binary} in ${Math.round((Date.now() - started) / 1000)}s`);
  return binary;
}

/** The lock file a build holds, naming its process: `.tools/bin/.<command>.building`. */
export const buildLockFile = (tool: GoTool) => path.join(TOOLS_BIN, `.${tool.command}.building`);

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the tool's build lock: true when this process holds it, false when a
 * live process holds it. A lock left by a process that died is taken over.
 */
export function takeBuildLock(tool: GoTool): boolean {
  mkdirSync(TOOLS_BIN, { recursive: true });
  const file = buildLockFile(tool);
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(readFileSync(file, 'utf8').trim());
      if (Number.isInteger(holder) && holder > 0 && processAlive(holder)) return false;
      unlinkSync(file);
    }
  }
  return false;
}

export function releaseBuildLock(tool: GoTool): void {
  try {
    if (readFileSync(buildLockFile(tool), 'utf8').trim() === String(process.pid)) unlinkSync(buildLockFile(tool));
  } catch {
    // already gone
  }
}

const BUILD_WAIT_POLL_MS = 2_000;

/**
 * The tool's binary: found, or built; undefined when neither works. One build
 * at a time per machine: `npm start` and `npm test` started together on a
 * fresh machine share one build instead of compiling the same modules twice
 * over on the same cores; the one that waits says whose build it waits for.
 */
export async function ensureGoTool(
  tool: GoTool,
  log: (line: string) => void = console.log,
): Promise<string | undefined> {
  let said = 0;
  for (;;) {
    const found = findGoTool(tool);
    if (found) return found.path;
    if (takeBuildLock(tool)) {
      try {
        return findGoTool(tool)?.path ?? (await buildGoTool(tool, log));
      } finally {
        releaseBuildLock(tool);
      }
    }
    if (Date.now() - said >= PROGRESS_EVERY_MS) {
      const holder = readFileSync(buildLockFile(tool), 'utf8').trim();
      log(`Waiting for another process's build of ${tool.name} (pid ${holder}) to finish…`);
      said = Date.now();
    }
    await new Promise((resolve) => setTimeout(resolve, BUILD_WAIT_POLL_MS));
  }
}
