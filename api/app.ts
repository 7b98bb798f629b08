/**
 * Builds the Hono app from its dependencies. The server entry only calls
 * `serve()`; tests build the same app and call `app.request()`.
 */
import { randomUUID } from 'node:crypto';
import { OpenAPIHono } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { secureHeaders } from 'hono/secure-headers';
import { authenticate, FailedAuthLimiter, DEFAULT_FAILED_AUTH_PER_MINUTE, type AppEnv } from './auth';
import { consoleRoutes } from './console';
import { docsRoutes } from './docs';
import { requestObservability } from './observability';
import { ApiError, errorBody, fromTemporalError } from './errors';
import { IDEMPOTENCY_KEY_HEADER, idempotency, IDEMPOTENT_REPLAYED_HEADER, SECRET_ANSWER_POSTS } from './idempotency';
import { healthRoutes } from './routes/health';
import { metricsRoutes } from './routes/metrics';
import { auditRoutes } from './routes/audit';
import { caseRoutes } from './routes/cases';
import { codecRoutes } from './routes/codec';
import type { AppDeps } from './routes/common';
import { evidenceBodyLimit, evidenceRoutes } from './routes/evidence';
import { taskRoutes } from './routes/tasks';
import { complaintRoutes } from './routes/complaints';
import { drillRoutes } from './routes/drills';
import { deliveryRoutes } from './routes/delivery';
import { dashboardRoutes } from './routes/dashboards';
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
import { temporalDeadline } from './deadline';
import { DEFAULT_TEMPORAL_DEADLINE_MS } from '../platform/config';

export type { AppDeps } from './routes/common';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,100}$/;

/** A JSON (or any non-form) request body may be 1 MiB at most (MAX_JSON_BYTES; policy default). */
export const DEFAULT_MAX_JSON_BYTES = 1024 * 1024;
const FORM_MEDIA_TYPES = new Set(['multipart/form-data', 'application/x-www-form-urlencoded']);

/**
 * 413 PAYLOAD_TOO_LARGE for a body over its limit, before it is read whole:
 * a declared Content-Length over the limit is refused unread, a chunked body
 * as soon as it passes the limit. Forms are evidence uploads, limited by
 * MAX_EVIDENCE_BYTES; everything else by MAX_JSON_BYTES.
 */
function requestBodyLimit(maxJsonBytes: number, maxEvidenceBytes: number): MiddlewareHandler<AppEnv> {
  const json = bodyLimit({
    maxSize: maxJsonBytes,
    onError: () => {
      throw new ApiError('PAYLOAD_TOO_LARGE', `request bodies are limited to ${maxJsonBytes} bytes`, {
        limitBytes: maxJsonBytes,
      });
    },
  });
  const form = evidenceBodyLimit(maxEvidenceBytes);
  return (c, next) => {
    const mediaType = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    return FORM_MEDIA_TYPES.has(mediaType) ? form(c, next) : json(c, next);
  };
}

/**
 * The Content-Security-Policy of every response. The docs page loads its
 * script and styles from this origin (api/docs.ts keeps its init script in a
 * file for this); Swagger UI draws icons from data: URIs. Inline styles stay
 * allowed for the printable reports' <style>; inline scripts never are.
 */
const CONTENT_SECURITY_POLICY = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'", "'unsafe-inline'"],
  imgSrc: ["'self'", 'data:'],
  fontSrc: ["'self'", 'data:'],
  connectSrc: ["'self'"],
  objectSrc: ["'none'"],
  baseUri: ["'self'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
};

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
  app.use('*', requestObservability());
  app.use('*', secureHeaders({ contentSecurityPolicy: CONTENT_SECURITY_POLICY, xFrameOptions: 'DENY' }));

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
    if (apiError.retryAfterSeconds !== undefined) c.header('Retry-After', String(apiError.retryAfterSeconds));
    return c.json(errorBody(c, apiError), apiError.status);
  });

  app.notFound((c) => c.json(errorBody(c, new ApiError('NOT_FOUND', `no route ${c.req.method} ${c.req.path}`)), 404));

  app.route('/', healthRoutes(deps));
  app.route('/', metricsRoutes(deps));
  app.route('/', docsRoutes());
  app.route('/', codecRoutes(deps));
  const maxJsonBytes = deps.settings.maxJsonBytes ?? DEFAULT_MAX_JSON_BYTES;
  app.use('/api/*', requestBodyLimit(maxJsonBytes, deps.settings.maxEvidenceBytes));
  app.use(
    '/api/*',
    authenticate(deps.db, new FailedAuthLimiter(deps.settings.failedAuthPerMinute ?? DEFAULT_FAILED_AUTH_PER_MINUTE)),
  );
  // NUL and lone surrogates are refused once, here, for every route; every form route is an evidence upload.
  app.use('/api/*', textGuard({ formBodyLimit: evidenceBodyLimit(deps.settings.maxEvidenceBytes) }));
  // After authentication (a key is its user's) and the text guard (a refused request stores nothing).
  app.use('/api/*', idempotency(deps.db));
  app.use(
    '/api/*',
    temporalDeadline(deps.temporal, () => deps.settings.temporalDeadlineMs ?? DEFAULT_TEMPORAL_DEADLINE_MS),
  );
  app.route('/', consoleRoutes(deps)); // the web console, its session endpoints, ETags on the reads it polls
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
    deliveryRoutes,
    dashboardRoutes,
  ]) {
    app.route('/', routes(deps));
  }

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    description: 'API token (gov_…), created by `npm run users` or POST /api/users/{userId}/tokens',
  });
  const docConfig = {
    openapi: '3.1.0',
    info: {
      title: 'Governance platform API · 治理平台 API',
      version: '0.1.0',
      description: [
        'Governance cases — approval requests, supplier reviews, incidents, complaints and their rectification items — run as Temporal workflows. Errors share one envelope: { error: { code, message, requestId } }.',
        `Every POST accepts an ${IDEMPOTENCY_KEY_HEADER} header: send the same request again with the same key and get the first answer (with ${IDEMPOTENT_REPLAYED_HEADER}: true), its effect applied once.`,
        `Request bodies are limited (JSON ${maxJsonBytes} bytes, evidence ${deps.settings.maxEvidenceBytes} bytes; 413 PAYLOAD_TOO_LARGE); repeated failed authentication from one address is refused for a while (429 TOO_MANY_FAILED_LOGINS, Retry-After).`,
      ].join(' '),
    },
  } as const;
  app.get('/openapi.json', (c) => c.json(withIdempotencyKeyParameter(app.getOpenAPI31Document(docConfig))));
  return app;
}

export type App = ReturnType<typeof createApp>;

const IDEMPOTENCY_KEY_PARAMETER = {
  name: IDEMPOTENCY_KEY_HEADER,
  in: 'header',
  required: false,
  description: `Makes the POST safe to send again: 1 to 255 visible ASCII characters (a UUID is a good key), scoped to the caller. The same key with the same method, path and body returns the first answer (same status and body) with ${IDEMPOTENT_REPLAYED_HEADER}: true, the effect applied once, even if the API died mid-request; with another request, 422 IDEMPOTENCY_KEY_REUSED; while the first is still being answered, 409 IDEMPOTENCY_IN_FLIGHT with Retry-After. Answers below 500 are kept 24 hours; a 5xx keeps nothing. Without the header a POST behaves as it always has.`,
  schema: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7E]+$' },
} as const;

/** Adds the Idempotency-Key header, one shared parameter, to every POST under /api. */
function withIdempotencyKeyParameter<D extends { paths?: object; components?: object }>(doc: D): D {
  const paths = (doc.paths ?? {}) as Record<string, Record<string, { parameters?: unknown[] }>>;
  for (const [path, operations] of Object.entries(paths)) {
    const post = operations.post;
    if (!path.startsWith('/api/') || !post || SECRET_ANSWER_POSTS.some((p) => p.test(path.replace(/\{[^}]+\}/g, 'x'))))
      continue;
    post.parameters = [...(post.parameters ?? []), { $ref: '#/components/parameters/IdempotencyKey' }];
  }
  const components = (doc.components ?? {}) as { parameters?: Record<string, unknown> };
  return {
    ...doc,
    components: { ...components, parameters: { ...components.parameters, IdempotencyKey: IDEMPOTENCY_KEY_PARAMETER } },
  };
}
