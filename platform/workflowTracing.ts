/**
 * Workflow interceptors, bundled into every workflow bundle (they run inside
 * the workflow sandbox, so: deterministic, package imports only). They hand
 * a call to @temporalio/interceptors-opentelemetry only when it carries a
 * trace: the start, update or signal came from a traced client (its headers
 * hold the trace context). With tracing off nobody sends one, so a workflow
 * creates no span, calls no sink and costs nothing; and the choice is read
 * from headers recorded in history, so replay makes the same choice.
 */
import {
  OpenTelemetryInboundInterceptor,
  OpenTelemetryInternalsInterceptor,
  OpenTelemetryOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry/lib/workflow';
import type { Headers } from '@temporalio/common';
import type {
  WorkflowInboundCallsInterceptor,
  WorkflowInterceptorsFactory,
  WorkflowOutboundCallsInterceptor,
} from '@temporalio/workflow';

/** The header the OpenTelemetry interceptors carry a trace context in. */
const TRACE_HEADER = '_tracer-data';

const traced = (headers: Headers) => TRACE_HEADER in headers;

export const interceptors: WorkflowInterceptorsFactory = () => {
  // Built on the first traced call only: the tracer provider is per workflow.
  let otel:
    | {
        inbound: OpenTelemetryInboundInterceptor;
        outbound: OpenTelemetryOutboundInterceptor;
        internals: OpenTelemetryInternalsInterceptor;
      }
    | undefined;
  const tracing = () =>
    (otel ??= {
      inbound: new OpenTelemetryInboundInterceptor(),
      outbound: new OpenTelemetryOutboundInterceptor(),
      internals: new OpenTelemetryInternalsInterceptor(),
    });

  const inbound: WorkflowInboundCallsInterceptor = {
    execute: (input, next) => (traced(input.headers) ? tracing().inbound.execute(input, next) : next(input)),
    handleSignal: (input, next) => (traced(input.headers) ? tracing().inbound.handleSignal(input, next) : next(input)),
    handleUpdate: (input, next) => (traced(input.headers) ? tracing().inbound.handleUpdate(input, next) : next(input)),
    validateUpdate: (input, next) =>
      traced(input.headers) ? tracing().inbound.validateUpdate(input, next) : next(input),
  };
  // Outbound calls continue the trace of a workflow that has one.
  const outbound: WorkflowOutboundCallsInterceptor = {
    scheduleActivity: (input, next) => (otel ? otel.outbound.scheduleActivity(input, next) : next(input)),
    scheduleLocalActivity: (input, next) => (otel ? otel.outbound.scheduleLocalActivity(input, next) : next(input)),
    startChildWorkflowExecution: (input, next) =>
      otel ? otel.outbound.startChildWorkflowExecution(input, next) : next(input),
    continueAsNew: (input, next) => (otel ? otel.outbound.continueAsNew(input, next) : next(input)),
    signalWorkflow: (input, next) => (otel ? otel.outbound.signalWorkflow(input, next) : next(input)),
    getLogAttributes: (input, next) => (otel ? otel.outbound.getLogAttributes(input, next) : next(input)),
  };
  return {
    inbound: [inbound],
    outbound: [outbound],
    internals: [{ dispose: (input, next) => (otel ? otel.internals.dispose(input, next) : next(input)) }],
  };
};
