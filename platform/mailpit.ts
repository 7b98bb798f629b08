/**
 * Mailpit: the real SMTP server that `npm start` and the tests send mail to,
 * with an HTTP API (and a web UI) to read what arrived. Found or built like
 * the Temporal CLI (./goTool.ts): $MAILPIT_PATH, `mailpit` on PATH, the
 * git-ignored .tools/bin, or a Go build into it (about a minute, once).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { buildGoTool, ensureGoTool, findGoTool, type GoTool } from './goTool';

export const MAILPIT_VERSION = 'v1.33.1';

const MAILPIT: GoTool = {
  name: 'Mailpit',
  command: 'mailpit',
  pathVariable: 'MAILPIT_PATH',
  goPackage: 'github.com/axllent/mailpit',
  version: MAILPIT_VERSION,
  buildTime: 'about a minute, more on a busy machine; once',
  progress: 'still building Mailpit',
};

export function findMailpit(): { path: string; source: string } | undefined {
  return findGoTool(MAILPIT);
}

/** Builds Mailpit with Go into .tools/bin, printing progress while it works. */
export async function buildMailpit(log: (line: string) => void = console.log): Promise<string | undefined> {
  return buildGoTool(MAILPIT, log);
}

export async function ensureMailpit(log: (line: string) => void = console.log): Promise<string | undefined> {
  return ensureGoTool(MAILPIT, log);
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
