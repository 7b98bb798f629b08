/**
 * The operations settings (issue 14 §6) are read once and refused when wrong,
 * so a typo stops the start instead of silently turning logs, traces or the
 * metrics token off.
 */
import { describe, expect, it } from 'vitest';
import { loadSettings } from '../../platform/config';

describe('operations settings', () => {
  it('defaults: info logs, no tracing, no worker metrics, no metrics token', () => {
    const settings = loadSettings({});
    expect(settings.logLevel).toBe('info');
    expect(settings.otlpEndpoint).toBeUndefined();
    expect(settings.workerMetricsAddress).toBeUndefined();
    expect(settings.metricsToken).toBeUndefined();
  });

  it('LOG_LEVEL takes pino’s levels only', () => {
    expect(loadSettings({ LOG_LEVEL: 'debug' }).logLevel).toBe('debug');
    expect(loadSettings({ LOG_LEVEL: 'silent' }).logLevel).toBe('silent');
    for (const bad of ['DEBUG', 'verbose', 'warning']) {
      expect(() => loadSettings({ LOG_LEVEL: bad }), bad).toThrow(/LOG_LEVEL must be one of/);
    }
  });

  it('OTEL_EXPORTER_OTLP_ENDPOINT must be an http(s) URL; a trailing slash is dropped', () => {
    expect(loadSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }).otlpEndpoint).toBe(
      'http://collector:4318',
    );
    for (const bad of ['collector:4318', 'grpc://collector:4317', 'not a url']) {
      expect(() => loadSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: bad }), bad).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT/);
    }
  });

  it('WORKER_MAX_CACHED_WORKFLOWS sizes the sticky cache on purpose: 32 unless set, a positive integer', () => {
    expect(loadSettings({}).workerMaxCachedWorkflows).toBe(32);
    expect(loadSettings({ WORKER_MAX_CACHED_WORKFLOWS: '250' }).workerMaxCachedWorkflows).toBe(250);
    expect(() => loadSettings({ WORKER_MAX_CACHED_WORKFLOWS: 'lots' })).toThrow(/WORKER_MAX_CACHED_WORKFLOWS/);
  });

  it('WORKER_METRICS_ADDRESS must be host:port', () => {
    expect(loadSettings({ WORKER_METRICS_ADDRESS: '0.0.0.0:9464' }).workerMetricsAddress).toBe('0.0.0.0:9464');
    expect(loadSettings({ WORKER_METRICS_ADDRESS: '[::]:9464' }).workerMetricsAddress).toBe('[::]:9464');
    for (const bad of ['9464', '0.0.0.0', '0.0.0.0:0', '0.0.0.0:70000', 'http://0.0.0.0:9464']) {
      expect(() => loadSettings({ WORKER_METRICS_ADDRESS: bad }), bad).toThrow(
        /WORKER_METRICS_ADDRESS must be host:port/,
      );
    }
  });

  it('METRICS_TOKEN must be long enough not to be guessed', () => {
    const token = 'a'.repeat(24);
    expect(loadSettings({ METRICS_TOKEN: token }).metricsToken).toBe(token);
    for (const bad of ['short', 'a'.repeat(23), `${'a'.repeat(24)} b`]) {
      expect(() => loadSettings({ METRICS_TOKEN: bad }), bad).toThrow(/METRICS_TOKEN must be at least 24 characters/);
    }
  });
});
