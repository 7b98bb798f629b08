/**
 * GET /metrics — Prometheus exposition of platform/metrics.ts: the process,
 * HTTP requests by route template and status, and the audit chain.
 *
 * Outside /api and outside the OpenAPI document: it is for the scraper, not
 * for users, and takes no user token. It shows request counts, route names
 * and the audit chain's head — nothing personal, but nothing a stranger needs
 * either, and the API's port is public. So:
 * - METRICS_TOKEN set: `Authorization: Bearer <METRICS_TOKEN>` is required (401 otherwise);
 * - unset on a developer's machine: open;
 * - unset in production (NODE_ENV=production): 404, as if absent.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { Hono } from 'hono';
import type { Settings } from '../../platform/config';
import { metricsRegistry, observeAuditChain } from '../../platform/metrics';
import type { AppEnv } from '../auth';
import { ApiError } from '../errors';
import type { AppDeps } from './common';

const digest = (value: string) => createHash('sha256').update(value).digest();

export function metricsRoutes(deps: AppDeps) {
  // api/server.ts passes the whole Settings; AppDeps names only what the API routes read.
  const { metricsToken, production }: Partial<Settings> = deps.settings;
  const expected = metricsToken ? digest(`Bearer ${metricsToken}`) : undefined;
  const app = new Hono<AppEnv>();
  app.get('/metrics', async (c) => {
    if (!expected) {
      if (production) throw new ApiError('NOT_FOUND', 'no route GET /metrics (set METRICS_TOKEN to serve it)');
    } else if (!timingSafeEqual(digest(c.req.header('authorization') ?? ''), expected)) {
      throw new ApiError('UNAUTHENTICATED', 'send the metrics token as "Authorization: Bearer <METRICS_TOKEN>"');
    }
    await observeAuditChain(deps.db);
    return c.body(await metricsRegistry.metrics(), 200, { 'content-type': metricsRegistry.contentType });
  });
  return app;
}
