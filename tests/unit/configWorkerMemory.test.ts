/**
 * The worker's memory settings (README "Memory", bench/memory.bench.ts): the
 * sticky cache is sized for the cases busy at once, and the workflow tasks in
 * flight never outnumber the workflows the cache can hold.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_WORKER_MAX_CACHED_WORKFLOWS, loadSettings } from '../../platform/config';
import { MAX_CONCURRENT_WORKFLOW_TASKS, workerMemoryOptions } from '../../worker';

describe('worker memory settings', () => {
  it('caches twice the widest burst of starts (16) unless WORKER_MAX_CACHED_WORKFLOWS says otherwise', () => {
    expect(DEFAULT_WORKER_MAX_CACHED_WORKFLOWS).toBe(32);
    expect(loadSettings({}).workerMaxCachedWorkflows).toBe(DEFAULT_WORKER_MAX_CACHED_WORKFLOWS);
    expect(loadSettings({ WORKER_MAX_CACHED_WORKFLOWS: '64' }).workerMaxCachedWorkflows).toBe(64);
  });

  it('one workflow thread, one reused V8 context, no more tasks in flight than the cache holds', () => {
    expect(workerMemoryOptions(32)).toEqual({
      maxCachedWorkflows: 32,
      reuseV8Context: true,
      workflowThreadPoolSize: 1,
      maxConcurrentWorkflowTaskExecutions: MAX_CONCURRENT_WORKFLOW_TASKS,
    });
    expect(workerMemoryOptions(8).maxConcurrentWorkflowTaskExecutions).toBe(8);
    // The SDK's floor for a non-zero cache.
    expect(workerMemoryOptions(1).maxConcurrentWorkflowTaskExecutions).toBe(2);
    // Unset (the tests' workers): the SDK's cache, the same thread and task settings.
    expect(workerMemoryOptions(undefined)).not.toHaveProperty('maxCachedWorkflows');
    expect(workerMemoryOptions(undefined).maxConcurrentWorkflowTaskExecutions).toBe(MAX_CONCURRENT_WORKFLOW_TASKS);
  });
});
