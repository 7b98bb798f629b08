/**
 * Every request, observed once: a server span (the root of the trace the
 * Temporal interceptors carry on into workflows, activities and SQL), one
 * JSON log line, and the request histogram of /metrics. Wired in createApp
 * right after the request-id middleware, so the id is known when the line is
 * written:
 *
 *   app.use('*', requestObservability());
 */
import { context, propagation, SpanKind, SpanStatusCode, trace, type TextMapGetter } from '@opentelemetry/api';
import type { Context, MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import { httpRequestDuration } from '../platform/metrics';
import { logger as processLogger, type Logger } from '../platform/logger';
import type { AppEnv } from './auth';

const headerGetter: TextMapGetter<Headers> = {
  keys: (headers) => [...headers.keys()],
  get: (headers, key) => headers.get(key) ?? undefined,
};

/**
 * The route template of the request (`/api/cases/:caseId`), never the raw
 * path: ids in metric labels would make a series per case. The handler that
 * answered, or — when middleware answered first (401, 413) — the first route
 * that matched, which is the one that would have (`/api/tasks/inbox` before
 * `/api/tasks/:taskId`). Middleware (`*`, `/api/*`) is registered for every
 * method, a route for one. A request no route matched is `unmatched`.
 */
export function routeTemplate(c: Context): string {
  const routes = matchedRoutes(c);
  const answered = routes[c.req.routeIndex];
  if (answered && answered.method !== 'ALL') return answered.path;
  return routes.find((route) => route.method !== 'ALL')?.path ?? 'unmatched';
}

export function requestObservability(options: { logger?: Logger } = {}): MiddlewareHandler<AppEnv> {
  const log = options.logger ?? processLogger;
  // A no-op tracer until platform/tracing.ts starts a provider.
  const tracer = trace.getTracer('governance-api');
  return async (c, next) => {
    const startedAt = performance.now();
    const method = c.req.method;
    // A caller that traces (a gateway, another service) continues its own trace here.
    const parent = propagation.extract(context.active(), c.req.raw.headers, headerGetter);
    const span = tracer.startSpan(
      method,
      { kind: SpanKind.SERVER, attributes: { 'http.request.method': method, 'url.path': c.req.path } },
      parent,
    );
    await context.with(trace.setSpan(parent, span), next);

    const route = routeTemplate(c);
    const status = c.res.status;
    const seconds = (performance.now() - startedAt) / 1000;
    span.updateName(`${method} ${route}`);
    span.setAttributes({ 'http.route': route, 'http.response.status_code': status });
    // Unexpected failures only; a 4xx is the API answering, not failing.
    const failure = status >= 500 ? c.error : undefined;
    if (failure) span.recordException(failure);
    if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
    httpRequestDuration.observe({ method, route, status: String(status) }, seconds);

    const spanContext = span.spanContext();
    const line = {
      requestId: c.get('requestId'),
      method,
      route,
      path: c.req.path,
      status,
      durationMs: Math.round(seconds * 10_000) / 10,
      userId: c.get('user')?.id,
      traceId: trace.isSpanContextValid(spanContext) ? spanContext.traceId : undefined,
    };
    if (failure) log.error({ ...line, err: failure }, 'request failed');
    else log.info(line, 'request');
  };
}
