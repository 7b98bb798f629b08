/**
 * The README is executable: each curl walkthrough in README.md runs, verbatim
 * and as one script, against a running product, so the README cannot drift from it:
 * tests/integration/readme.test.ts runs them on the product as `npm start`
 * starts it, tests/production/readme.test.ts on the production profile.
 *
 * Which blocks: every ```bash block that uses `$API` is a walkthrough and gets
 * its own test, named by the heading above it. The set-up commands
 * (`npm install && npm start`, `temporal operator …`) do not, so they are not
 * run. A block that assigns `API=` starts a fresh shell in a fresh temporary
 * directory holding a copy of README.md (the walkthroughs upload it as
 * evidence and write reports beside it). A block that uses `$API` without
 * assigning it ("From the incident above") continues the walkthrough before
 * it, as a reader pasting both into one terminal would: same directory, and
 * the shell variables that block left.
 *
 * Verbatim: the one substitution is the `API=http://localhost:3000`
 * assignment, which becomes the test server's URL. Nothing else is added
 * between the commands — no sleeps, retries or polling. A mutating call must
 * return once its effect can be read and its next step taken (STYLE.md), and
 * this test is what holds the product to that.
 *
 * How a block runs: `bash -euo pipefail` sources it from a small wrapper that
 * only exports each command's line number (a DEBUG trap) and saves the shell
 * variables at exit (for a continuing block). A `curl` shim first on PATH runs
 * the real curl with an extra `--write-out` recording each request's line,
 * method, URL and HTTP status in a log; the response body passes through to
 * stdout unchanged, and the record is echoed on stderr so that the output
 * printed on failure shows each request's status right after its response.
 *
 * The convention for statuses: every request must get a 2xx, except a command
 * whose line right above is a comment containing `→ NNN` (the README's
 * expected refusals, e.g. `# … → 422 SEGREGATION_OF_DUTIES`): its requests
 * must get exactly NNN, and it must send at least one.
 */
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, closeSync, copyFileSync, mkdirSync, mkdtempSync, openSync } from 'node:fs';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../platform/config';

const README = path.join(PROJECT_ROOT, 'README.md');
const README_API = 'API=http://localhost:3000';
const BLOCK_TIMEOUT_MS = 100_000;

interface Walkthrough {
  name: string;
  /** README line of the opening fence: script line n is README line fenceLine + n. */
  fenceLine: number;
  script: string;
  /** Starts a fresh shell (assigns API=), or continues the walkthrough before it. */
  fresh: boolean;
}

/** The README's ```bash blocks that use $API, each named by the heading above it. */
function walkthroughs(markdown: string): Walkthrough[] {
  const found: Walkthrough[] = [];
  let heading = 'README';
  let block: { fenceLine: number; bash: boolean; body: string[] } | undefined;
  markdown.split('\n').forEach((line, i) => {
    if (!block) {
      if (line.startsWith('```')) block = { fenceLine: i + 1, bash: line.trim() === '```bash', body: [] };
      else heading = /^#{1,6}\s+(.*)$/.exec(line)?.[1]?.trim() ?? heading;
      return;
    }
    if (!line.startsWith('```')) {
      block.body.push(line);
      return;
    }
    const script = block.body.join('\n') + '\n';
    if (block.bash && script.includes('$API')) {
      const name = found.some((w) => w.name === heading) ? `${heading} (line ${block.fenceLine})` : heading;
      found.push({ name, fenceLine: block.fenceLine, script, fresh: /(^|[\s;])API=/m.test(script) });
    }
    block = undefined;
  });
  return found;
}

/**
 * The line spans (1-based, inclusive) of a script's commands: a command goes
 * on over a backslash-newline, an open quote or an open `$(…)`. Comments are
 * skipped. Enough shell for the README, not a parser.
 */
function commandSpans(script: string): Array<{ first: number; last: number }> {
  const spans: Array<{ first: number; last: number }> = [];
  let line = 1;
  let first = 0;
  let quote: "'" | '"' | null = null;
  let depth = 0;
  for (let i = 0; i < script.length; i++) {
    const c = script.charAt(i);
    if (c === '\n') {
      if (!quote && depth === 0 && first) {
        spans.push({ first, last: line });
        first = 0;
      }
      line++;
      continue;
    }
    if (quote === "'") {
      if (c === "'") quote = null;
      continue;
    }
    if (c === '\\') {
      if (script[i + 1] === '\n') line++;
      i++;
      continue;
    }
    if (quote === '"') {
      if (c === '"') quote = null;
      continue;
    }
    if (c === '#' && (i === 0 || /[\s;(]/.test(script.charAt(i - 1)))) {
      while (i + 1 < script.length && script[i + 1] !== '\n') i++;
      continue;
    }
    if (/\s/.test(c)) continue;
    if (!first) first = line;
    if (c === "'" || c === '"') quote = c;
    else if (c === '(') depth++;
    else if (c === ')') depth = Math.max(0, depth - 1);
  }
  if (first) spans.push({ first, last: line });
  return spans;
}

/** The status each command's requests must get: `→ NNN` in the comment line right above it, else any 2xx. */
function expectations(script: string) {
  const lines = script.split('\n');
  return commandSpans(script).map((span) => {
    const above = lines[span.first - 2]?.trim() ?? '';
    const refusal = above.startsWith('#') ? /→\s*(\d{3})\b/.exec(above) : null;
    return { ...span, status: refusal ? Number(refusal[1]) : undefined };
  });
}

interface RequestRecord {
  line: number;
  method: string;
  url: string;
  status: number;
}

const RECORD = /^line (\d+): (\S+) (\S+) → (\d{3})$/;

// The shim: the real curl with one more --write-out (to stderr: %{stderr}),
// which goes to the log and, after the response body, to the block's output.
const CURL_SHIM = `#!/usr/bin/env bash
# curl for tests/support/walkthroughs.ts: records each request's status.
record=$(mktemp)
status=0
"$README_REAL_CURL" "$@" --write-out "%{stderr}line \${README_LINE:-0}: %{method} %{url_effective} → %{response_code}\\n" 2>"$record" || status=$?
cat "$record" >>"$README_CURL_LOG"
sed 's/^/[curl] /' "$record" >&2
rm -f "$record"
exit "$status"
`;

// Sourced under bash -euo pipefail. The DEBUG trap tells the shim which line
// it runs for; the EXIT trap leaves the block's variables to a continuing block.
const WRAPPER = `set -o functrace
__readme_vars=" $(compgen -v | tr '\\n' ' ') "
if [[ -f "$README_STATE" ]]; then source "$README_STATE"; fi
__readme_save() {
  local __readme_v
  for __readme_v in $(compgen -v); do
    [[ $__readme_vars == *" $__readme_v "* || $__readme_v == __readme* || $__readme_v == README_* ]] ||
      declare -p "$__readme_v"
  done >"$README_STATE"
}
trap __readme_save EXIT
trap 'export README_LINE=$LINENO' DEBUG
source "$README_BLOCK"
`;

/** Runs the wrapper with stdout and stderr into one file, so the output keeps its order. */
async function runBash(
  wrapper: string,
  options: { cwd: string; env: NodeJS.ProcessEnv; output: string },
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const fd = openSync(options.output, 'a');
  try {
    return await new Promise((resolve, reject) => {
      const child = spawn('bash', ['-euo', 'pipefail', wrapper], {
        cwd: options.cwd,
        env: options.env,
        stdio: ['ignore', fd, fd],
        timeout: BLOCK_TIMEOUT_MS,
      });
      child.on('error', reject);
      child.on('close', (code, signal) => resolve({ code, signal }));
    });
  } finally {
    closeSync(fd);
  }
}

/** The block's output for a reader: each [curl] record on its own line, at its README line, long bodies cut. */
function transcript(output: string, fenceLine: number): string {
  return output
    .replace(/([^\n])\[curl\] /g, '$1\n[curl] ')
    .replace(/\[curl\] line (\d+): /g, (_, line: string) => `[curl] README.md:${fenceLine + Number(line)} `)
    .split('\n')
    .map((line) => (line.length > 800 ? `${line.slice(0, 800)}… (${line.length - 800} more characters)` : line))
    .join('\n');
}

/**
 * Defines one test per README walkthrough, run against `target().url` (read
 * inside the tests, so a target started in a `beforeAll` is seen).
 */
export function describeReadmeWalkthroughs(title: string, target: () => { url: string }): void {
  describe(title, () => {
    const realCurl = execFileSync('bash', ['-c', 'command -v curl'], { encoding: 'utf8' }).trim();
    const root = mkdtempSync(path.join(tmpdir(), 'gov-readme-'));
    const shimDir = path.join(root, 'bin');
    mkdirSync(shimDir);
    writeFileSync(path.join(shimDir, 'curl'), CURL_SHIM);
    chmodSync(path.join(shimDir, 'curl'), 0o755);
    const wrapper = path.join(root, 'wrapper.sh');
    writeFileSync(wrapper, WRAPPER);
    afterAll(() => rmSync(root, { recursive: true, force: true }));

    let session: { dir: string; state: string } | undefined;
    const blocks = walkthroughs(readFileSync(README, 'utf8'));
    blocks.forEach((walkthrough, index) => {
      it(walkthrough.name, { timeout: BLOCK_TIMEOUT_MS + 20_000 }, async () => {
        if (walkthrough.fresh) {
          const dir = path.join(root, `walkthrough-${index}`);
          mkdirSync(dir);
          copyFileSync(README, path.join(dir, 'README.md'));
          session = { dir, state: path.join(root, `walkthrough-${index}.vars`) };
        }
        if (!session)
          throw new Error(`README.md:${walkthrough.fenceLine} uses $API but no walkthrough above assigns it`);
        const assignments = walkthrough.script.split(README_API).length - 1;
        if (walkthrough.fresh && assignments !== 1)
          throw new Error(`README.md:${walkthrough.fenceLine} must assign exactly "${README_API}" once to run here`);
        const script = walkthrough.script.replace(README_API, `API=${target().url}`);
        const blockFile = path.join(root, `block-${index}.sh`);
        const log = path.join(root, `block-${index}.requests`);
        const output = path.join(root, `block-${index}.out`);
        writeFileSync(blockFile, script);
        writeFileSync(log, '');
        writeFileSync(output, '');

        const { code, signal } = await runBash(wrapper, {
          cwd: session.dir,
          output,
          env: {
            ...process.env,
            PATH: `${shimDir}${path.delimiter}${process.env.PATH ?? ''}`,
            README_REAL_CURL: realCurl,
            README_CURL_LOG: log,
            README_BLOCK: blockFile,
            README_STATE: session.state,
          },
        });

        const records: RequestRecord[] = readFileSync(log, 'utf8')
          .split('\n')
          .flatMap((line) => {
            const [, at, method = '', url = '', status] = RECORD.exec(line) ?? [];
            return at ? [{ line: Number(at), method, url, status: Number(status) }] : [];
          });
        const commands = expectations(walkthrough.script);
        const at = (line: number) => `README.md:${walkthrough.fenceLine + line}`;
        const problems: string[] = [];
        if (code !== 0) problems.push(`the block stopped: ${signal ? `signal ${signal}` : `exit code ${code}`}`);
        for (const record of records) {
          const command = commands.find((c) => c.first <= record.line && record.line <= c.last);
          const expected = command?.status;
          const ok = expected === undefined ? record.status >= 200 && record.status < 300 : record.status === expected;
          if (!ok)
            problems.push(
              `${at(record.line)} ${record.method} ${record.url} → ${record.status}, expected ${expected ?? '2xx'}`,
            );
        }
        for (const command of commands.filter((c) => c.status !== undefined)) {
          if (!records.some((r) => command.first <= r.line && r.line <= command.last))
            problems.push(`${at(command.first)} is marked → ${command.status} but sent no request`);
        }
        if (problems.length) {
          throw new Error(
            [
              `${problems.length} problem(s) in the walkthrough "${walkthrough.name}" (README.md:${walkthrough.fenceLine}):`,
              ...problems.map((p) => `  ${p}`),
              '',
              `The block's output (stdout and stderr; each [curl] line gives the status of the request whose response, if printed, is just above):`,
              transcript(readFileSync(output, 'utf8'), walkthrough.fenceLine),
            ].join('\n'),
          );
        }
      });
    });

    it('finds the walkthroughs, and no walkthrough without a shell to run in', () => {
      expect(blocks.length).toBeGreaterThan(0);
      expect(blocks[0]?.fresh).toBe(true);
    });
  });
}
