/**
 * Builds the Hono app from its dependencies. The server entry only calls
 * `serve()`; tests build the same app and call `app.request()`.
 */
import { randomUUID } from 'node:crypto';
import { OpenAPIHono } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import { HTTPException } from 'hono/http-exception';
import { authenticate, type AppEnv } from './auth';
import { docsRoutes } from './docs';
import { ApiError, errorBody, fromTemporalError } from './errors';
import { auditRoutes } from './routes/audit';
import { caseRoutes } from './routes/cases';
import type { AppDeps } from './routes/common';
import { evidenceBodyLimit, evidenceRoutes } from './routes/evidence';
import { taskRoutes } from './routes/tasks';
import { complaintRoutes } from './routes/complaints';
import { drillRoutes } from './routes/drills';
import { pdcaRoutes } from './routes/pdca';
import { riskRoutes } from './routes/risks';
import { riskReportRoutes } from './routes/riskReports';
import { riskAssessmentRoutes } from './routes/riskAssessments';
import { warningRoutes } from './routes/warnings';
import { policyRoutes } from './routes/policy';
import { findingRoutes } from './routes/findings';
import { auditProgrammeRoutes } from './routes/audits';
import { incidentRoutes } from './routes/incidents';
import { supplierReviewRoutes } from './routes/supplierReviews';
import { supplierRoutes } from './routes/suppliers';
import { userRoutes } from './routes/users';
import { textGuard } from './textGuard';

export type { AppDeps } from './routes/common';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,100}$/;

export function createApp(deps: AppDeps, options: { log?: (line: string) => void } = {}) {
  const log = options.log ?? ((line: string) => console.error(line));
  const app = new OpenAPIHono<AppEnv>();

  app.use('*', async (c, next) => {
    const given = c.req.header('x-request-id');
    const requestId = given && REQUEST_ID.test(given) ? given : randomUUID();
    c.set('requestId', requestId);
    c.header('x-request-id', requestId);
    await next();
  });

  app.onError((err, c) => {
    let apiError: ApiError | undefined = err instanceof ApiError ? err : fromTemporalError(err);
    if (!apiError && err instanceof HTTPException && err.status < 500) {
      apiError =
        err.status === 413
          ? new ApiError('PAYLOAD_TOO_LARGE', err.message || 'request body too large')
          : err.status === 415
            ? new ApiError(
                'UNSUPPORTED_MEDIA_TYPE',
                `unsupported content-type "${c.req.header('content-type') ?? ''}": send application/json, or multipart/form-data for evidence`,
              )
            : new ApiError('BAD_REQUEST', err.message || 'bad request');
    }
    if (!apiError) {
      log(
        `[${c.get('requestId')}] ${c.req.method} ${c.req.path} failed: ${err instanceof Error ? err.stack : String(err)}`,
      );
      apiError = new ApiError('INTERNAL', 'internal error; quote the request id when reporting it');
    }
    return c.json(errorBody(c, apiError), apiError.status);
  });

  app.notFound((c) => c.json(errorBody(c, new ApiError('NOT_FOUND', `no route ${c.req.method} ${c.req.path}`)), 404));

  app.get('/health', async (c) => {
    const checks = await Promise.allSettled([
      deps.db.execute(sql`select 1`),
      deps.temporal.workflowService.getSystemInfo({}),
    ]);
    const [database, temporal] = checks.map((r) => (r.status === 'fulfilled' ? 'ok' : 'unavailable'));
    const ok = database === 'ok' && temporal === 'ok';
    return c.json({ status: ok ? 'ok' : 'degraded', database, temporal }, ok ? 200 : 503);
  });

  app.route('/', docsRoutes());
  app.use('/api/*', authenticate(deps.db));
  // NUL and lone surrogates are refused once, here, for every route; every form route is an evidence upload.
  app.use('/api/*', textGuard({ formBodyLimit: evidenceBodyLimit(deps.settings.maxEvidenceBytes) }));
  for (const routes of [
    caseRoutes,
    taskRoutes,
    evidenceRoutes,
    auditRoutes,
    userRoutes,
    supplierRoutes,
    supplierReviewRoutes,
    incidentRoutes,
    complaintRoutes,
    drillRoutes,
    pdcaRoutes,
    policyRoutes,
    riskRoutes,
    riskReportRoutes,
    riskAssessmentRoutes,
    warningRoutes,
    findingRoutes,
    auditProgrammeRoutes,
  ]) {
    app.route('/', routes(deps));
  }

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    description: 'API token (gov_…), created by `npm run users` or POST /api/users/{userId}/tokens',
  });
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'Governance platform API · 治理平台 API',
      version: '0.1.0',
      description:
        'Governance cases — approval requests, supplier reviews, incidents, complaints and their rectification items — run as Temporal workflows. Errors share one envelope: { error: { code, message, requestId } }.',
    },
  });
  return app;
}

export type App = ReturnType<typeof createApp>;
