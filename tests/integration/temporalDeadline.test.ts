/**
 * One API request waits on Temporal for a bounded time (api/deadline.ts).
 * With no worker to run the case, a decision's Update cannot complete: the
 * request answers 503 with Retry-After within the deadline instead of
 * hanging, its Idempotency-Key is free again at once (not "in flight" for as
 * long as the outage lasts), and once a worker is back the same request
 * with the same key applies the decision once.
 */
import { NativeConnection, Worker } from '@temporalio/worker';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { dataConverterFor } from '../../platform/codec';
import { connectWorker } from '../../platform/temporalConnection';
import { settledUpdate } from '../../workflows/definitions';
import { createWorker } from '../../worker';
import { TEST_CODEC_KEYS } from '../support/codecKeys';
import { eventually, useHarness } from '../support/harness';

const h = useHarness('deadline');
const temporalSettings = { temporalNamespace: 'default', codecKeys: TEST_CODEC_KEYS };
let second: { connection: NativeConnection; worker: Worker; run: Promise<void> } | undefined;

afterAll(async () => {
  if (!second) return;
  if (second.worker.getState() === 'RUNNING') second.worker.shutdown();
  await second.run.catch(() => undefined);
  await second.connection.close();
});

describe('a request waits on Temporal for a bounded time', () => {
  it('no worker: 503 with Retry-After within the deadline, the key free again; a worker back: applied once', async () => {
    const started = await h.api('POST', '/api/cases/approval-requests', {
      as: 'lead',
      json: { requestKey: h.unique('REQ'), title: 'Bounded wait', probability: 2, impact: 3 },
    });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    const caseId: string = started.body.caseId;
    const taskId = `${caseId}:approval`;
    await eventually(async () => (await h.sql('select 1 from tasks where id = $1', [taskId])).length === 1);

    // The worker goes away; requests now get 2 s on Temporal.
    h.worker.shutdown();
    await eventually(async () => h.worker.getState() === 'STOPPED');
    h.settings.temporalDeadlineMs = 2_000;

    const key = h.unique('decide');
    const decide = () =>
      h.api('POST', `/api/tasks/${encodeURIComponent(taskId)}/decision`, {
        as: 'approver',
        json: { decision: 'approve', comment: 'within bounds' },
        headers: { 'Idempotency-Key': key },
      });
    for (let attempt = 0; attempt < 2; attempt++) {
      const t0 = Date.now();
      const res = await decide();
      const took = Date.now() - t0;
      expect(res.status, JSON.stringify(res.body)).toBe(503);
      expect(res.body.error.code).toBe('UNAVAILABLE');
      expect(res.body.error.message).toMatch(/retry with the same Idempotency-Key/);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      // Bounded by the deadline (plus the API's own work on a loaded machine), not by the outage.
      expect(took).toBeLessThan(15_000);
    }
    // Nothing stored for a 5xx: the key is free for the retry, not held "in flight".
    expect(await h.sql('select state from idempotent_requests where idempotency_key = $1', [key])).toEqual([]);
    const [votes] = await h.sql('select jsonb_array_length(votes) as n from tasks where id = $1', [taskId]);
    expect(votes.n).toBe(0);

    // A worker again: the same request, same key, applies the decision once.
    const connection = await connectWorker(inject('temporalAddress'), temporalSettings);
    const worker = await createWorker({
      connection,
      temporal: h.temporal,
      db: h.database.db,
      namespace: 'default',
      taskQueue: h.taskQueue,
      workflowBundle: { codePath: inject('workflowBundlePath') },
      dataConverter: dataConverterFor(temporalSettings),
    });
    second = { connection, worker, run: worker.run() };
    h.settings.temporalDeadlineMs = 30_000;
    const applied = await decide();
    expect(applied.status, JSON.stringify(applied.body)).toBe(200);
    await h.temporal.workflow.getHandle(caseId).result();
    const [after] = await h.sql('select jsonb_array_length(votes) as n from tasks where id = $1', [taskId]);
    expect(after.n).toBe(1);
    // The Updates the timed-out attempts admitted were the same Update: one decision in history.
    const history = await h.temporal.workflow.getHandle(caseId).fetchHistory();
    const accepted = (history.events ?? []).filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes);
    const decisions = accepted.filter(
      (e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name !== settledUpdate.name,
    );
    expect(decisions).toHaveLength(1);
  });
});
