/**
 * OpenTelemetry traces across API → Temporal → workflow → activities → SQL,
 * exported over OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is set. Unset,
 * nothing is started: no tracer provider, no pg instrumentation, no client or
 * activity interceptors.
 *
 * One trace per request: the API's middleware (api/observability.ts) opens
 * the server span; the Temporal client interceptor carries its context in
 * the start/update headers; the workflow interceptors (inside the workflow
 * bundle) continue it and pass it on to each activity; the activity
 * interceptor makes it current, so the pg instrumentation's query spans hang
 * under the activity that ran them.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { createTraceState, type Attributes } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ClientInterceptors, WorkflowClientInterceptor } from '@temporalio/client';
import type { OpenTelemetrySinks, SerializableSpan } from '@temporalio/interceptors-opentelemetry';
import type { InjectedSinks, WorkerOptions } from '@temporalio/worker';
import type { WorkflowInfo } from '@temporalio/workflow';

const require = createRequire(import.meta.url);

/**
 * The workflow interceptor module (platform/workflowTracing.ts), bundled into
 * every workflow bundle — worker.ts, the tests' globalSetup, the production
 * profile — whether tracing is on or not: one bundle shape everywhere. It
 * traces only calls that arrive with a trace context, so with tracing off it
 * does nothing.
 */
export const WORKFLOW_INTERCEPTOR_MODULES = [fileURLToPath(new URL('./workflowTracing.ts', import.meta.url))];

export interface TracingOptions {
  /** `service.name` of every span: governance-api, governance-worker. */
  serviceName: string;
  /** OTLP/HTTP base URL; spans go to `<url>/v1/traces`. */
  otlpEndpoint?: string;
  /** Instead of the OTLP exporter (tests pass an in-memory one). */
  spanProcessor?: SpanProcessor;
}

export interface Tracing {
  enabled: boolean;
  /** The worker's part: activity interceptors, and the sink the workflow interceptors export through. */
  workerOptions(): Pick<WorkerOptions, 'interceptors' | 'sinks'>;
  /** Flushes the spans still buffered and stops the instrumentation. */
  shutdown(): Promise<void>;
}

let started: (Tracing & { clientInterceptor: () => WorkflowClientInterceptor }) | undefined;

/** A worker without tracing still takes spans from a traced caller's workflows, and drops them. */
const noopSinks: InjectedSinks<OpenTelemetrySinks> = { exporter: { export: { fn: () => undefined } } };

/** Tracing not started: what a worker gets unless it is given a started one. */
export const tracingOff: Tracing = {
  enabled: false,
  workerOptions: () => ({ sinks: noopSinks }),
  shutdown: async () => undefined,
};

/**
 * Starts tracing for this process, once: the global tracer provider, context
 * manager and W3C propagator, and the pg instrumentation. Without an endpoint
 * (or a processor) it returns `tracingOff` and starts nothing — not even
 * loading the OpenTelemetry SDK (about 0.45 s of CPU at start).
 */
export async function startTracing(options: TracingOptions): Promise<Tracing> {
  if (started) return started;
  if (!options.spanProcessor && !options.otlpEndpoint) return tracingOff;
  const [
    { registerInstrumentations },
    { PgInstrumentation },
    { resourceFromAttributes },
    { BatchSpanProcessor },
    { NodeTracerProvider },
    temporalOtel,
  ] = await Promise.all([
    import('@opentelemetry/instrumentation'),
    import('@opentelemetry/instrumentation-pg'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/sdk-trace-node'),
    import('@temporalio/interceptors-opentelemetry'),
  ]);
  let spanProcessor = options.spanProcessor;
  if (!spanProcessor) {
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
    spanProcessor = new BatchSpanProcessor(new OTLPTraceExporter({ url: `${options.otlpEndpoint}/v1/traces` }));
  }
  const processor = spanProcessor;

  const resource = resourceFromAttributes({ 'service.name': options.serviceName });
  const provider = new NodeTracerProvider({ resource, spanProcessors: [spanProcessor] });
  provider.register();
  const stopInstrumentation = registerInstrumentations({
    tracerProvider: provider,
    // Only queries inside a traced request or activity; query values are never recorded
    // (enhancedDatabaseReporting stays off), only the parameterised SQL.
    instrumentations: [new PgInstrumentation({ requireParentSpan: true })],
  });
  // The instrumentation patches pg when it is require()d. ESM imports are
  // hoisted, so `pg` (db/client.ts) was loaded before this function ran and
  // through pg's ESM entry, which the require hook never sees: requiring it
  // once more now hands the loaded module to the hook, which patches its
  // Client and Pool prototypes in place — the very classes the ESM import uses.
  require('pg');
  require('pg-pool');

  const exportWorkflowSpans: InjectedSinks<OpenTelemetrySinks> = {
    exporter: {
      export: {
        fn: (info: WorkflowInfo, spans: SerializableSpan[]) => {
          for (const span of spans) processor.onEnd(workflowSpan(span, info, resource));
        },
      },
    },
  };
  started = {
    enabled: true,
    workerOptions: () => ({
      interceptors: {
        activity: [
          (ctx) => ({
            inbound: new temporalOtel.OpenTelemetryActivityInboundInterceptor(ctx),
            outbound: new temporalOtel.OpenTelemetryActivityOutboundInterceptor(ctx),
          }),
        ],
      },
      sinks: exportWorkflowSpans,
    }),
    shutdown: async () => {
      stopInstrumentation();
      await provider.shutdown();
    },
    clientInterceptor: () => new temporalOtel.OpenTelemetryWorkflowClientInterceptor(),
  };
  return started;
}

/**
 * The Temporal client's interceptors: the OpenTelemetry one once tracing is
 * started in this process, none otherwise. The API's client (and the
 * worker's, which activities use to start cases) take them.
 */
export function temporalClientInterceptors(): ClientInterceptors {
  return { workflow: started ? [started.clientInterceptor()] : [] };
}

/**
 * A span the workflow isolate serialised, as the installed SDK (2.x) expects
 * it. The interceptor package builds spans with its own 1.x SDK: `parentSpanId`
 * and `instrumentationLibrary` where 2.x reads `parentSpanContext` and
 * `instrumentationScope`; passed on unchanged, the OTLP exporter would drop
 * the parent link and the scope.
 */
function workflowSpan(span: SerializableSpan, info: WorkflowInfo, resource: Resource): ReadableSpan {
  const {
    spanContext: { traceState, ...context },
    parentSpanId,
    instrumentationLibrary,
    attributes,
    ...rest
  } = span;
  const spanContext = { ...context, traceState: traceState ? createTraceState(traceState) : undefined };
  // The workflow's identity, not its whole WorkflowInfo (memo and search attributes are no span attributes).
  const identity: Attributes = {
    temporalWorkflowId: info.workflowId,
    run_id: info.runId,
    temporalWorkflowType: info.workflowType,
  };
  return {
    ...rest,
    attributes: { ...attributes, ...identity },
    spanContext: () => spanContext,
    parentSpanContext: parentSpanId
      ? { traceId: context.traceId, spanId: parentSpanId, traceFlags: context.traceFlags }
      : undefined,
    instrumentationScope: instrumentationLibrary ?? { name: '@temporalio/interceptor-workflow' },
    resource,
  };
}
