/**
 * Mailpit: the real SMTP server that `npm start` and the tests send mail to,
 * with an HTTP API (and a web UI) to read what arrived. Found or built like
 * the Temporal CLI (./temporalCli.ts): $MAILPIT_PATH, `mailpit` on PATH, the
 * git-ignored .tools/bin, or a Go build into it (about a minute, once).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { TOOLS_BIN } from './temporalCli';

export const MAILPIT_VERSION = 'v1.33.1';
const toolsBinary = path.join(TOOLS_BIN, 'mailpit');

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

export function findMailpit(): { path: string; source: string } | undefined {
  const fromEnv = process.env.MAILPIT_PATH;
  if (fromEnv) {
    if (!isExecutable(fromEnv)) throw new Error(`MAILPIT_PATH=${fromEnv} is not an executable file`);
    return { path: fromEnv, source: 'MAILPIT_PATH' };
  }
  const found = onPath('mailpit');
  if (found) return { path: found, source: 'PATH' };
  if (isExecutable(toolsBinary)) return { path: toolsBinary, source: '.tools/bin' };
  return undefined;
}

/** Builds Mailpit with Go into .tools/bin, printing progress while it works. */
export async function buildMailpit(log: (line: string) => void = console.log): Promise<string | undefined> {
  const go = onPath('go') ?? (existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : undefined);
  if (!go) return undefined;
  mkdirSync(TOOLS_BIN, { recursive: true });
  log(`Building Mailpit ${MAILPIT_VERSION} with Go into .tools/bin (about a minute, more on a busy machine; once)…`);
  const started = Date.now();
  const child = spawn(go, ['install', `github.com/axllent/mailpit@${MAILPIT_VERSION}`], {
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
    log(`  … still building Mailpit (${seconds}s, ${downloads} modules downloaded)`);
  }, 15_000);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearInterval(ticker);
  if (code !== 0 || !isExecutable(toolsBinary)) {
    log(`The Go build of Mailpit failed (exit ${code}):\n${tail}`);
    return undefined;
  }
  log(`Built ${toolsBinary} in ${Math.round((Date.now() - started) / 1000)}s`);
  return toolsBinary;
}

export async function ensureMailpit(log: (line: string) => void = console.log): Promise<string | undefined> {
  return findMailpit()?.path ?? buildMailpit(log);
}

/** A free TCP port on loopback (the OS picks it; a race with another process is retried by the caller). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** One message as Mailpit's API lists it (GET /api/v1/messages). */
export interface MailpitMessage {
  ID: string;
  MessageID: string;
  Subject: string;
  From: { Name: string; Address: string };
  To: Array<{ Name: string; Address: string }>;
  Created: string;
}

export interface Mailpit {
  /** For SMTP_URL: smtp://127.0.0.1:<port>. */
  smtpUrl: string;
  /** The web UI and HTTP API, http://127.0.0.1:<port>. */
  httpUrl: string;
  /** Every message received, newest first (its API's order). */
  messages(): Promise<MailpitMessage[]>;
  /** One message's text and HTML bodies and headers. */
  message(id: string): Promise<{ Text: string; HTML: string; Subject: string; To: Array<{ Address: string }> }>;
  stop(): Promise<void>;
  /** Stops it at once, synchronously (for a process 'exit' handler). */
  kill(): void;
}

async function waitUntilUp(httpUrl: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`Mailpit exited (${child.exitCode}):\n${output()}`);
    try {
      const res = await fetch(`${httpUrl}/api/v1/info`);
      if (res.ok) return;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`Mailpit did not answer on ${httpUrl} within 30s:\n${output()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Starts Mailpit on free loopback ports with an in-memory-sized store (the
 * messages live in a temporary database it removes on exit). Any SMTP
 * credentials are accepted, so an SMTP_URL with a user and password works too.
 */
export async function startMailpit(
  options: {
    log?: (line: string) => void;
    /** More flags, e.g. `--smtp-allowed-recipients <regexp>` to make the server refuse some addresses. */
    extraArgs?: string[];
  } = {},
): Promise<Mailpit> {
  const log = options.log ?? console.log;
  const binary = await ensureMailpit(log);
  if (!binary)
    throw new Error(
      `Mailpit not found and Go is not available to build it (go install github.com/axllent/mailpit@${MAILPIT_VERSION})`,
    );
  const [smtpPort, httpPort] = [await freePort(), await freePort()];
  const child = spawn(
    binary,
    [
      '--smtp',
      `127.0.0.1:${smtpPort}`,
      '--listen',
      `127.0.0.1:${httpPort}`,
      '--smtp-auth-accept-any',
      '--smtp-auth-allow-insecure',
      '--disable-version-check',
      '--max',
      '5000',
      '--quiet',
      ...(options.extraArgs ?? []),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const httpUrl = `http://127.0.0.1:${httpPort}`;
  try {
    await waitUntilUp(httpUrl, child, () => output);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  const json = async (url: string): Promise<any> => {
    const res = await fetch(url);
    if (!res.ok) throw new Error(`Mailpit ${url}: HTTP ${res.status}`);
    return res.json();
  };
  return {
    smtpUrl: `smtp://127.0.0.1:${smtpPort}`,
    httpUrl,
    messages: async () =>
      ((await json(`${httpUrl}/api/v1/messages?limit=1000`)) as { messages: MailpitMessage[] }).messages,
    message: async (id) => json(`${httpUrl}/api/v1/message/${encodeURIComponent(id)}`),
    kill: () => {
      if (child.exitCode === null) child.kill('SIGTERM');
    },
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
