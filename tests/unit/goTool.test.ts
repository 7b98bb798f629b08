/**
 * How the Go-built tools (platform/goTool.ts: the Temporal CLI, Mailpit) are
 * found or built: the variable that names a binary, PATH, .tools/bin, then
 * `go install` into .tools/bin. The build runs a stand-in `go` put first on
 * PATH, which records what it was asked and writes the binary where GOBIN
 * says, as `go install` does.
 */
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  buildGoTool,
  buildLockFile,
  ensureGoTool,
  findGoTool,
  takeBuildLock,
  TOOLS_BIN,
  type GoTool,
} from '../../platform/goTool';
import { findMailpit, MAILPIT_VERSION } from '../../platform/mailpit';
import { findTemporalCli, TOOLS_BIN as CLI_TOOLS_BIN } from '../../platform/temporalCli';

const dir = mkdtempSync(path.join(tmpdir(), 'gov-gotool-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TOOL: GoTool = {
  name: 'the Stand-in Tool',
  command: `gotool-test-${process.pid}`,
  pathVariable: 'GOTOOL_TEST_PATH',
  goPackage: 'example.com/standin/cmd/standin',
  version: 'v0.0.1',
  buildTime: 'a moment; once',
  progress: 'still building the stand-in',
};
const inTools = path.join(TOOLS_BIN, TOOL.command);

function executable(file: string, script: string): string {
  writeFileSync(file, `#!/bin/sh\n${script}\n`);
  chmodSync(file, 0o755);
  return file;
}

const savedPath = process.env.PATH;
beforeEach(() => {
  delete process.env[TOOL.pathVariable];
});
afterEach(() => {
  process.env.PATH = savedPath;
  delete process.env[TOOL.pathVariable];
  rmSync(inTools, { force: true });
  rmSync(buildLockFile(TOOL), { force: true });
});

describe('finding a Go tool', () => {
  it('takes the variable first, then PATH, then .tools/bin; nothing when none has it', () => {
    const onPathDir = mkdtempSync(path.join(dir, 'path-'));
    process.env.PATH = `${onPathDir}${path.delimiter}${savedPath}`;
    expect(findGoTool(TOOL)).toBeUndefined();

    executable(inTools, 'exit 0');
    expect(findGoTool(TOOL)).toEqual({ path: inTools, source: '.tools/bin' });
    const onPath = executable(path.join(onPathDir, TOOL.command), 'exit 0');
    expect(findGoTool(TOOL)).toEqual({ path: onPath, source: 'PATH' });
    const named = executable(path.join(dir, 'named'), 'exit 0');
    process.env[TOOL.pathVariable] = named;
    expect(findGoTool(TOOL)).toEqual({ path: named, source: TOOL.pathVariable });
  });

  it('refuses a variable that names no executable, rather than look elsewhere', () => {
    const plain = path.join(dir, 'not-executable');
    writeFileSync(plain, '');
    process.env[TOOL.pathVariable] = plain;
    expect(() => findGoTool(TOOL)).toThrow(`${TOOL.pathVariable}=${plain} is not an executable file`);
  });

  it('is how the Temporal CLI and Mailpit are found, in the same tools folder', () => {
    expect(CLI_TOOLS_BIN).toBe(TOOLS_BIN);
    const mailpit = executable(path.join(dir, 'mailpit'), 'exit 0');
    process.env.MAILPIT_PATH = mailpit;
    const cli = executable(path.join(dir, 'temporal'), 'exit 0');
    process.env.TEMPORAL_CLI_PATH = cli;
    try {
      expect(findMailpit()).toEqual({ path: mailpit, source: 'MAILPIT_PATH' });
      expect(findTemporalCli()).toEqual({ path: cli, source: 'TEMPORAL_CLI_PATH' });
    } finally {
      delete process.env.MAILPIT_PATH;
      delete process.env.TEMPORAL_CLI_PATH;
    }
    expect(MAILPIT_VERSION).toMatch(/^v\d+\.\d+\.\d+$/);
  });
});

describe('building a Go tool', () => {
  /** A `go` that logs its arguments and GOFLAGS, says it downloads modules, and exits with `exit`. */
  function standInGo(exit: number, seconds = 0): string {
    const bin = mkdtempSync(path.join(dir, 'go-'));
    const calls = path.join(bin, 'calls');
    executable(
      path.join(bin, 'go'),
      [
        `echo "$@ GOFLAGS=$GOFLAGS" >> ${calls}`,
        'echo "go: downloading example.com/a v1.0.0" >&2',
        'echo "go: downloading example.com/b v1.0.0" >&2',
        seconds ? `sleep ${seconds}` : '',
        exit === 0 ? `printf '#!/bin/sh\\n' > "$GOBIN/${TOOL.command}" && chmod +x "$GOBIN/${TOOL.command}"` : '',
        exit === 0 ? '' : 'echo "standin.go:1: syntax error" >&2',
        `exit ${exit}`,
      ].join('\n'),
    );
    process.env.PATH = `${bin}${path.delimiter}${savedPath}`;
    return calls;
  }

  it('runs go install of the package at its version into .tools/bin, and says so', async () => {
    const calls = standInGo(0);
    const lines: string[] = [];
    expect(await buildGoTool(TOOL, (line) => lines.push(line))).toBe(inTools);
    expect(existsSync(inTools)).toBe(true);
    expect(readFileSync(calls, 'utf8').trim()).toBe(`install ${TOOL.goPackage}@${TOOL.version} GOFLAGS=-mod=mod`);
    expect(lines[0]).toBe(`Building the Stand-in Tool v0.0.1 with Go into .tools/bin (a moment; once)…`);
    expect(lines.at(-1)).toMatch(new RegExp(`^Built ${inTools} in \\d+s$`));
    // Found there from now on: no second build.
    expect(await ensureGoTool(TOOL, (line) => lines.push(line))).toBe(inTools);
    expect(readFileSync(calls, 'utf8').trim().split('\n')).toHaveLength(1);
  });

  it("reports a failed build with go's exit code and the tail of its output", async () => {
    standInGo(3);
    const lines: string[] = [];
    expect(await ensureGoTool(TOOL, (line) => lines.push(line))).toBeUndefined();
    expect(lines.at(-1)).toMatch(/^The Go build of the Stand-in Tool failed \(exit 3\):\n/);
    expect(lines.at(-1)).toContain('standin.go:1: syntax error');
  });

  it('builds once when two callers want the tool at the same time; the other waits and says for whom', async () => {
    const calls = standInGo(0, 1);
    const lines: string[] = [];
    const [first, second] = await Promise.all([
      ensureGoTool(TOOL, (line) => lines.push(line)),
      ensureGoTool(TOOL, (line) => lines.push(line)),
    ]);
    expect(first).toBe(inTools);
    expect(second).toBe(inTools);
    expect(readFileSync(calls, 'utf8').trim().split('\n')).toHaveLength(1);
    expect(lines).toContain(`Waiting for another process's build of the Stand-in Tool (pid ${process.pid}) to finish…`);
    expect(existsSync(buildLockFile(TOOL))).toBe(false);
  });

  it('takes over a lock left by a process that died, and releases it when the build fails', async () => {
    writeFileSync(buildLockFile(TOOL), '999999999');
    expect(takeBuildLock(TOOL)).toBe(true);
    expect(readFileSync(buildLockFile(TOOL), 'utf8')).toBe(String(process.pid));
    rmSync(buildLockFile(TOOL));

    writeFileSync(buildLockFile(TOOL), '999999999');
    standInGo(3);
    expect(await ensureGoTool(TOOL, () => undefined)).toBeUndefined();
    expect(existsSync(buildLockFile(TOOL))).toBe(false);
  });

  it('does not take a lock a live process holds', () => {
    writeFileSync(buildLockFile(TOOL), String(process.ppid));
    expect(takeBuildLock(TOOL)).toBe(false);
    expect(readFileSync(buildLockFile(TOOL), 'utf8')).toBe(String(process.ppid));
  });
});
