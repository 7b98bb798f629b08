/**
 * Cases of several processes driven through the profile's API as a client
 * that survives faults would: every mutating call carries an
 * `Idempotency-Key` and is retried with the same key while the answer is a
 * network error, a 5xx or "still in flight". What the retries may not do is
 * apply anything twice: `expectNothingDoubled` checks that in SQL.
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import type { TestUser } from '../support/harness';
import { eventually, type ApiAnswer, type Production } from '../support/production';

const enc = encodeURIComponent;

export interface CallRecord {
  step: string;
  attempts: number;
  status: number;
  replayed: boolean;
}

/** One mutating call, retried with the same Idempotency-Key until it gets a final answer. */
export async function send(
  p: Production,
  step: string,
  method: string,
  path: string,
  options: { as: TestUser; json?: unknown; form?: () => FormData },
  calls?: CallRecord[],
  deadlineMs = 240_000,
): Promise<ApiAnswer> {
  const key = randomUUID();
  const deadline = Date.now() + deadlineMs;
  let attempts = 0;
  let last = '';
  const seen: string[] = [];
  while (Date.now() < deadline) {
    attempts++;
    try {
      const headers: Record<string, string> = {
        authorization: `Bearer ${p.tokens[options.as]}`,
        'idempotency-key': key,
      };
      let body: string | FormData | undefined;
      if (options.form) body = options.form();
      else if (options.json !== undefined) {
        headers['content-type'] = 'application/json';
        body = JSON.stringify(options.json);
      }
      const res = await fetch(`${p.apiUrl}${path}`, { method, headers, body, signal: AbortSignal.timeout(60_000) });
      const text = await res.text();
      const parsed = text ? JSON.parse(text) : undefined;
      const answer = { status: res.status, body: parsed, headers: res.headers };
      const inFlight = res.status === 409 && parsed?.error?.code === 'IDEMPOTENCY_IN_FLIGHT';
      seen.push(String(res.status));
      if (attempts > 1 && res.status < 500 && !inFlight && ![200, 201].includes(res.status))
        throw new Error(
          `${step}: retried with the same Idempotency-Key after ${seen.join(', ')}, then ${res.status} ${text.slice(0, 300)}`,
        );
      if (res.status < 500 && !inFlight) {
        calls?.push({
          step,
          attempts,
          status: res.status,
          replayed: res.headers.get('idempotent-replayed') === 'true',
        });
        return answer;
      }
      last = `${res.status} ${text.slice(0, 300)}`;
    } catch (err) {
      if (String(err).includes('retried with the same Idempotency-Key')) throw err;
      seen.push('no answer');
      last = String(err);
    }
    await new Promise((r) => setTimeout(r, 250 + Math.random() * 250));
  }
  throw new Error(`${step}: no final answer within ${deadlineMs} ms after ${attempts} attempts; last: ${last}`);
}

const ok = (answer: ApiAnswer, step: string, statuses = [200, 201]) =>
  expect(statuses, `${step}: ${answer.status} ${JSON.stringify(answer.body)}`).toContain(answer.status);

const evidenceForm = (text: string) => () => {
  const form = new FormData();
  form.append('file', new Blob([text], { type: 'text/plain' }), 'evidence.txt');
  return form;
};

export type ProcessName = 'approval-with-condition' | 'approval-four-eyes' | 'audit-finding';
export const PROCESSES: ProcessName[] = ['approval-with-condition', 'approval-four-eyes', 'audit-finding'];

/** What a finished case of each process must hold, once: used by the SQL checks. */
export interface DrivenCase {
  process: ProcessName;
  caseId: string;
  /** Tasks the case opens and closes, each with its one deciding event. */
  tasks: string[];
  calls: CallRecord[];
}

async function rectify(p: Production, caseId: string, itemId: string, verifier: TestUser, calls: CallRecord[]) {
  const evidence = await send(
    p,
    'evidence',
    'POST',
    `/api/cases/${enc(caseId)}/evidence`,
    { as: 'owner', form: evidenceForm(`evidence of ${itemId}`) },
    calls,
  );
  ok(evidence, 'evidence', [201]);
  ok(
    await send(
      p,
      'submission',
      'POST',
      `/api/tasks/${enc(itemId)}/submission`,
      { as: 'owner', json: { evidenceIds: [evidence.body.id] } },
      calls,
    ),
    'submission',
    [200],
  );
  ok(
    await send(
      p,
      'verification',
      'POST',
      `/api/tasks/${enc(itemId)}/verification`,
      { as: verifier, json: { verdict: 'accept' } },
      calls,
    ),
    'verification',
    [200],
  );
}

/** Drives one case of `process` from its start to its end through the API. */
export async function driveCase(p: Production, process: ProcessName, key = p.unique('FT')): Promise<DrivenCase> {
  const calls: CallRecord[] = [];
  switch (process) {
    case 'approval-with-condition': {
      const started = await send(
        p,
        'start',
        'POST',
        '/api/cases/approval-requests',
        {
          as: 'manager',
          json: { requestKey: key, title: `Fault test ${key}`, probability: 2, impact: 3, ownerId: 'owner' },
        },
        calls,
      );
      ok(started, 'start', [201]);
      const caseId: string = started.body.caseId;
      const approval = `${caseId}:approval`;
      ok(
        await send(
          p,
          'decision',
          'POST',
          `/api/tasks/${enc(approval)}/decision`,
          {
            as: 'approver',
            json: {
              decision: 'approve_with_conditions',
              conditions: ['Sign the supplementary agreement'],
              comment: 'ok',
            },
          },
          calls,
        ),
        'decision',
        [200],
      );
      const item = `${caseId}:rectification:1`;
      await rectify(p, caseId, item, 'approver2', calls);
      return { process, caseId, tasks: [approval, item], calls };
    }
    case 'approval-four-eyes': {
      const started = await send(
        p,
        'start',
        'POST',
        '/api/cases/approval-requests',
        {
          as: 'manager',
          json: { requestKey: key, title: `Fault test ${key}`, probability: 4, impact: 5 },
        },
        calls,
      );
      ok(started, 'start', [201]);
      const caseId: string = started.body.caseId;
      const approval = `${caseId}:approval`;
      for (const as of ['approver', 'approver2'] as const) {
        ok(
          await send(
            p,
            `decision by ${as}`,
            'POST',
            `/api/tasks/${enc(approval)}/decision`,
            { as, json: { decision: 'approve' } },
            calls,
          ),
          'decision',
          [200],
        );
      }
      return { process, caseId, tasks: [approval], calls };
    }
    case 'audit-finding': {
      const started = await send(
        p,
        'start',
        'POST',
        '/api/audit-findings',
        {
          as: 'internalAudit',
          json: {
            findingKey: key,
            title: `Fault test ${key}`,
            description: 'Access reviews not recorded',
            severity: 'medium',
            area: 'data_security',
            remedy: 'rectification',
            ownerId: 'owner',
          },
        },
        calls,
      );
      ok(started, 'start', [201]);
      const caseId: string = started.body.caseId;
      const item: string = started.body.remedyCaseId;
      await rectify(p, caseId, item, 'approver', calls);
      return { process, caseId, tasks: [item], calls };
    }
  }
}

/** Every case closed, in the read model and in Temporal (its workflow completed). */
export async function expectClosed(p: Production, driven: DrivenCase[], timeoutMs = 120_000): Promise<void> {
  const ids = driven.map((d) => d.caseId);
  await eventually(async () => {
    const rows = await p.sql<{ id: string }>(`select id from cases where id = any($1) and status = 'closed'`, [ids]);
    return rows.length === ids.length;
  }, timeoutMs).catch(async (err) => {
    const rows = await p.sql(`select id, status, stage from cases where id = any($1) and status <> 'closed'`, [ids]);
    throw new Error(`${err.message}; still open: ${JSON.stringify(rows)}`);
  });
  for (const d of driven) {
    const description = await p.temporal.workflow.getHandle(d.caseId).describe();
    expect(description.status.name, d.caseId).toBe('COMPLETED');
  }
}

/**
 * Nothing applied twice, in SQL: one row per case, each task decided once
 * (one deciding audit event, no voter twice among its votes), one
 * rectification item per condition, and no audit action repeated where it
 * may happen once. Plus the chain verifies.
 */
export async function expectNothingDoubled(p: Production, driven: DrivenCase[]): Promise<void> {
  const ids = driven.map((d) => d.caseId);
  const cases = await p.sql(`select id, count(*)::int as n from cases where id = any($1) group by id`, [ids]);
  expect(cases.every((c) => c.n === 1) && cases.length === ids.length).toBe(true);

  // Each audit action that happens once per case or task happened once.
  const repeated = await p.sql(
    `select case_id, task_id, action, count(*)::int as n from audit_events
      where case_id = any($1) and action not like 'notification.%' and action not like '%.reminded' and action not like '%.escalated'
      group by case_id, task_id, action, actor_id having count(*) > 1`,
    [ids],
  );
  expect(repeated, 'audit events recorded twice').toEqual([]);

  const taskIds = driven.flatMap((d) => d.tasks);
  const tasks = await p.sql(`select id, kind, status, votes from tasks where id = any($1)`, [taskIds]);
  expect(tasks).toHaveLength(taskIds.length);
  for (const task of tasks) {
    const voters = (task.votes as Array<{ userId?: string; by?: string; actorId?: string }>).map(
      (v) => v.userId ?? v.by ?? v.actorId,
    );
    expect(new Set(voters).size, `${task.id} votes ${JSON.stringify(task.votes)}`).toBe(voters.length);
  }
  const fourEyes = driven.filter((d) => d.process === 'approval-four-eyes').map((d) => d.tasks[0]);
  if (fourEyes.length) {
    const votes = await p.sql(`select id, jsonb_array_length(votes)::int as n from tasks where id = any($1)`, [
      fourEyes,
    ]);
    expect(
      votes.every((v) => v.n === 2),
      JSON.stringify(votes),
    ).toBe(true);
  }
  // One rectification item per condition or finding: no second one opened by a replayed step.
  const items = await p.sql(
    `select case_id, count(*)::int as n from tasks where case_id = any($1) and kind = 'rectification' group by case_id`,
    [ids],
  );
  for (const d of driven) {
    const expected = d.process === 'approval-four-eyes' ? 0 : 1;
    const n = items.find((i) => i.case_id === d.caseId)?.n ?? 0;
    // An audit finding's item is its own case (`remedyCaseId`), counted by its id below.
    if (d.process !== 'audit-finding') expect(n, `${d.caseId} rectification items`).toBe(expected);
  }
  const verify = await p.api('GET', '/api/audit/verify', { as: 'auditor' });
  expect(verify.status).toBe(200);
  expect(verify.body.ok, JSON.stringify(verify.body)).toBe(true);
}

/**
 * In Temporal's histories: each case ran once (one run of its workflow id),
 * and no Update was accepted twice (a retried decision reuses its first
 * Update, never adds a second). Returns the number of accepted Updates.
 */
export async function expectHistoriesOnce(p: Production, driven: DrivenCase[]): Promise<number> {
  const ids = driven.map((d) => d.caseId);
  const workflows = await p.sql<{ workflow_id: string }>(
    `select distinct workflow_id from tasks where case_id = any($1) union select id from cases where id = any($1)`,
    [ids],
  );
  let accepted = 0;
  for (const { workflow_id: workflowId } of workflows) {
    let runs = 0;
    for await (const _ of p.temporal.workflow.list({ query: `WorkflowId = '${workflowId.replace(/'/g, "\\'")}'` }))
      runs++;
    expect(runs, `runs of ${workflowId}`).toBe(1);
    const history = await p.temporal.workflow.getHandle(workflowId).fetchHistory();
    const updateIds = stepUpdates(history).map(
      (e) => e.workflowExecutionUpdateAcceptedEventAttributes!.protocolInstanceId!,
    );
    expect(new Set(updateIds).size, `Updates accepted twice in ${workflowId}`).toBe(updateIds.length);
    accepted += updateIds.length;
  }
  return accepted;
}

/**
 * The Updates a history accepted for people's steps (decisions, submissions,
 * verifications): all but `settled`, the Update a case is started with
 * (update-with-start, platform/cases.ts).
 */
export function stepUpdates(history: { events?: Array<any> | null }) {
  return (history.events ?? []).filter(
    (e) =>
      e.workflowExecutionUpdateAcceptedEventAttributes &&
      e.workflowExecutionUpdateAcceptedEventAttributes.acceptedRequest?.input?.name !== 'settled',
  );
}
