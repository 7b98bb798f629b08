/**
 * One structured log for the API and the worker: JSON lines on stdout (pino),
 * one object per event, so a log shipper indexes `requestId`, `workflowId`,
 * `route` or `status` without parsing text. There is no pretty mode — pipe
 * through `pino-pretty` on a developer's machine if wanted.
 *
 * The process's logger is silent until its entry configures it
 * (`configureLogger(settings)` in api/server.ts and worker.ts, at LOG_LEVEL):
 * tests build hundreds of apps in one process, and their request lines would
 * bury the test output.
 */
import type { LogLevel as TemporalLogLevel, LogMetadata, Logger as TemporalLogger } from '@temporalio/common';
import pino from 'pino';
import type { LogLevel, Settings } from './config';

export type Logger = pino.Logger;

export interface LoggerOptions {
  level?: LogLevel;
  /** Where lines go; stdout unless a test captures them. */
  destination?: pino.DestinationStream;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const pinoOptions: pino.LoggerOptions = {
    level: options.level ?? 'info',
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    // Level names, not numbers: readable in `kubectl logs` and matchable in queries.
    formatters: { level: (label) => ({ level: label }) },
    // The SDK passes failures as `error`; pino serialises only `err` by default.
    serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
  };
  // pino's default destination writes stdout synchronously: a crash's last line is not lost.
  return options.destination ? pino(pinoOptions, options.destination) : pino(pinoOptions);
}

/** The process's logger: request lines, the Temporal SDK's lines, the entries' own. */
export const logger: Logger = createLogger({ level: 'silent' });

/** Called once by an entry: LOG_LEVEL, and which service every line comes from. */
export function configureLogger(settings: Pick<Settings, 'logLevel'>, service: string): Logger {
  logger.level = settings.logLevel;
  logger.setBindings({ service });
  return logger;
}

const TEMPORAL_LEVELS: Record<TemporalLogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/**
 * The Temporal SDK's logger, writing to pino. The SDK already puts the
 * workflow's or activity's identity into `meta` (workflowId, runId,
 * workflowType, activityType, activityId, taskQueue, sdkComponent), so each
 * line says which case it belongs to; with tracing, trace_id and span_id too.
 * Give it to `Runtime.install({ logger })`.
 */
export function temporalLogger(base: Logger): TemporalLogger {
  const log = (level: TemporalLogLevel, message: string, meta?: LogMetadata) => {
    // Symbol keys (the SDK's nanosecond timestamp) are dropped by JSON anyway. An activity's
    // task token completes the activity for whoever holds it: not for the log.
    const { taskToken: _taskToken, workflowRunId, ...fields } = meta ?? {};
    // One name for the run everywhere: workflow lines say runId, activity lines workflowRunId.
    if (workflowRunId !== undefined && fields.runId === undefined) fields.runId = workflowRunId;
    base[TEMPORAL_LEVELS[level]](fields, message);
  };
  return {
    log,
    trace: (message, meta) => log('TRACE', message, meta),
    debug: (message, meta) => log('DEBUG', message, meta),
    info: (message, meta) => log('INFO', message, meta),
    warn: (message, meta) => log('WARN', message, meta),
    error: (message, meta) => log('ERROR', message, meta),
  };
}
