/**
 * The web console (issue 13), served by the API itself from its own port: the
 * Vite build in web/dist (made by `npm run web:build`, which `npm start` and
 * the console tests run when it is missing or stale), the session endpoints
 * (api/session.ts), and ETags on the reads the console polls, so a poll that
 * finds nothing new costs a 304 and no body. No CDN, no external font: the
 * bundle is all there is.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { Hono, type MiddlewareHandler } from 'hono';
import { etag } from 'hono/etag';
import type { AppEnv } from './auth';
import type { AppDeps } from './routes/common';
import { oidcConfigFrom, oidcEndSession, oidcRoutes } from './oidc';
import { sessionRoutes } from './session';

export const CONSOLE_DIST = fileURLToPath(new URL('../web/dist', import.meta.url));
export const CONSOLE_PATH = '/console';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

/** The API reads the console polls (inbox, case page): answered 304 when nothing changed. */
const POLLED_READS = ['/api/tasks/inbox', '/api/cases/:caseId'];

function polledRead(): MiddlewareHandler<AppEnv> {
  const tag = etag();
  return async (c, next) => {
    if (c.req.method !== 'GET') return next();
    await tag(c, next);
    // Per user, and always asked again: the tag saves the body, never the question.
    c.header('cache-control', 'private, no-cache');
    c.header('vary', 'Cookie, Authorization');
  };
}

export function consoleRoutes({ db }: AppDeps) {
  const app = new Hono<AppEnv>();
  for (const read of POLLED_READS) app.use(read, polledRead());
  // Sign-in with the company's identity provider where OIDC_* configure one; a half-configured one stops the start here.
  const oidc = oidcConfigFrom(process.env);
  // Signing out of a session the provider opened ends the provider's session too, where it offers that.
  app.route('/', sessionRoutes(db, undefined, { endSessionAt: oidcEndSession(oidc) }));
  app.route('/', oidcRoutes(db, oidc));

  const files = new Map<string, { body: Uint8Array; mtimeMs: number; gzipped?: Uint8Array }>();
  async function file(relative: string): Promise<{ body: Uint8Array; gzipped?: Uint8Array } | undefined> {
    const full = path.join(CONSOLE_DIST, relative);
    if (!full.startsWith(CONSOLE_DIST + path.sep)) return undefined;
    const info = await stat(full).catch(() => undefined);
    if (!info?.isFile()) return undefined;
    const cached = files.get(full);
    if (cached && cached.mtimeMs === info.mtimeMs) return cached;
    const body = new Uint8Array(await readFile(full));
    // Compressed once, when first asked for: the bundle is most of the console's first load.
    const gzipped = /\.(js|css|html|svg|json)$/.test(full) ? new Uint8Array(gzipSync(body, { level: 9 })) : undefined;
    const entry = { body, mtimeMs: info.mtimeMs, gzipped };
    files.set(full, entry);
    return entry;
  }

  app.get('/', (c) => c.redirect(`${CONSOLE_PATH}/`, 302));
  app.get(CONSOLE_PATH, (c) => c.redirect(`${CONSOLE_PATH}/`, 301));
  // A task's link in a reminder mail (`<CONSOLE_URL>/tasks/<taskId>`, CONSOLE_URL defaulting to the API's URL).
  app.get('/tasks/:taskId', (c) =>
    c.redirect(`${CONSOLE_PATH}/tasks/${encodeURIComponent(c.req.param('taskId'))}`, 302),
  );
  app.get(`${CONSOLE_PATH}/*`, async (c) => {
    const relative = decodeURIComponent(c.req.path.slice(CONSOLE_PATH.length + 1));
    const asset = relative && !relative.endsWith('/') ? await file(relative) : undefined;
    if (asset) {
      const immutable = relative.startsWith('assets/');
      const gzip = asset.gzipped && /\bgzip\b/.test(c.req.header('accept-encoding') ?? '');
      return c.body((gzip ? asset.gzipped! : asset.body) as Uint8Array<ArrayBuffer>, 200, {
        'content-type': TYPES[path.extname(relative)] ?? 'application/octet-stream',
        // Vite names every asset by its content hash.
        'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
        vary: 'Accept-Encoding',
        ...(gzip ? { 'content-encoding': 'gzip' } : {}),
      });
    }
    if (relative.startsWith('assets/')) return c.notFound();
    // Every other path is a screen of the single-page console.
    const index = await file('index.html');
    if (!index) {
      return c.text('The console is not built: run `npm run web:build` (npm start does it for you).', 503);
    }
    return c.body(index.body as Uint8Array<ArrayBuffer>, 200, {
      'content-type': TYPES['.html']!,
      'cache-control': 'no-cache',
    });
  });
  return app;
}
