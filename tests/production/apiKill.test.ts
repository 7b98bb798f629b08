/**
 * The API killed -9 mid-request: the client retries with the same
 * `Idempotency-Key`, the effect is applied once, and the retry gets the
 * first answer. Semantics of the header (api/idempotency.ts): on POST,
 * scoped to the user; the same key with the same method, path and body gets
 * the first answer (same status and body), marked `Idempotent-Replayed: true`
 * when served from the store; the same key on another request → 422
 * IDEMPOTENCY_KEY_REUSED.
 *
 * Each round sends the call, kills the API a random moment into it (spread
 * over the call's measured duration), starts a new API process and retries
 * with the same key. Where the kill fell shows in the answer: killed before
 * the answer (mid-request) or after it; the effect is counted in SQL either way.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { TestUser } from '../support/harness';
import { useProduction, type ApiAnswer } from '../support/production';
import { stepUpdates } from './cases';

const p = useProduction();
const enc = encodeURIComponent;
const ROUNDS = Number(process.env.PRODUCTION_API_KILL_ROUNDS ?? 5);

async function post(path: string, as: TestUser, key: string, json: unknown): Promise<ApiAnswer> {
  const res = await fetch(`${p.apiUrl}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${p.tokens[as]}`, 'content-type': 'application/json', 'idempotency-key': key },
    body: JSON.stringify(json),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}

/** Retries (same key) until a final answer: the new API process may still be starting. */
async function retry(path: string, as: TestUser, key: string, json: unknown): Promise<ApiAnswer> {
  for (let attempt = 0; ; attempt++) {
    try {
      const answer = await post(path, as, key, json);
      const inFlight = answer.status === 409 && answer.body?.error?.code === 'IDEMPOTENCY_IN_FLIGHT';
      if (answer.status < 500 && !inFlight) return answer;
    } catch {
      /* the API is not up yet */
    }
    if (attempt > 200) throw new Error(`no final answer to the retry of ${path}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

interface Round {
  first?: ApiAnswer;
  retried: ApiAnswer;
}

/** Sends, kills the API `delayMs` into the call, restarts it, retries with the same key. */
async function killDuring(path: string, as: TestUser, json: unknown, delayMs: number): Promise<Round> {
  const key = randomUUID();
  const pending = post(path, as, key, json).catch(() => undefined);
  await new Promise((r) => setTimeout(r, delayMs));
  await p.control('killApi');
  const first = await pending;
  await p.control('startApi');
  return { first, retried: await retry(path, as, key, json) };
}

function expectFirstAnswer(round: Round) {
  if (round.first && round.first.status < 500) {
    // The answer had left before the kill: the retry is served from the store, unchanged.
    expect(round.retried.status).toBe(round.first.status);
    expect(round.retried.body).toEqual(round.first.body);
    expect(round.retried.headers.get('idempotent-replayed')).toBe('true');
  }
}

describe('API kill -9 mid-request', () => {
  it(`decisions: applied once, the retry gets the first answer (${ROUNDS} rounds)`, async () => {
    // How long a decision takes here: the kills are spread over it.
    const probe = await p.api('POST', '/api/cases/approval-requests', {
      as: 'manager',
      json: { requestKey: p.unique('PROBE'), title: 'Latency probe', probability: 2, impact: 3 },
    });
    expect(probe.status).toBe(201);
    const t0 = Date.now();
    const probeDecision = await post(
      `/api/tasks/${enc(`${probe.body.caseId}:approval`)}/decision`,
      'approver',
      randomUUID(),
      {
        decision: 'approve',
      },
    );
    expect(probeDecision.status).toBe(200);
    const latency = Date.now() - t0;

    let midRequest = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const started = await p.api('POST', '/api/cases/approval-requests', {
        as: 'manager',
        json: { requestKey: p.unique('KILL'), title: 'API killed mid-decision', probability: 2, impact: 3 },
      });
      expect(started.status).toBe(201);
      const caseId: string = started.body.caseId;
      const taskId = `${caseId}:approval`;
      const path = `/api/tasks/${enc(taskId)}/decision`;
      const result = await killDuring(
        path,
        'approver',
        { decision: 'approve', comment: `round ${round}` },
        Math.random() * latency * 1.2,
      );
      if (!result.first) midRequest++;
      expect(result.retried.status, JSON.stringify(result.retried.body)).toBe(200);
      expect(result.retried.body).toMatchObject({ taskId, status: 'approved' });
      expectFirstAnswer(result);

      // Applied once: one vote, one decision event, one accepted Update.
      const [task] = await p.sql('select status, votes from tasks where id = $1', [taskId]);
      expect(task.votes).toHaveLength(1);
      const decided = await p.sql(
        `select count(*)::int as n from audit_events where task_id = $1 and action = 'approval.decided'`,
        [taskId],
      );
      expect(decided).toEqual([{ n: 1 }]);
      const history = await p.temporal.workflow.getHandle(caseId).fetchHistory();
      expect(stepUpdates(history)).toHaveLength(1);
    }
    console.log(
      `[production] API kill -9 during decisions: ${ROUNDS} rounds, ${midRequest} before the answer left; decision latency ${latency} ms`,
    );
  });

  it(`creations without a business key: one case, the retry gets the first answer (${ROUNDS} rounds)`, async () => {
    let midRequest = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const title = `Created while the API died ${randomUUID()}`;
      const result = await killDuring(
        '/api/cases/approval-requests',
        'manager',
        { title, probability: 2, impact: 3 },
        Math.random() * 400,
      );
      if (!result.first) midRequest++;
      expect(result.retried.status, JSON.stringify(result.retried.body)).toBe(201);
      expectFirstAnswer(result);
      const rows = await p.sql('select id from cases where title = $1', [title]);
      expect(rows).toEqual([{ id: result.retried.body.caseId }]);
      const opened = await p.sql(
        `select count(*)::int as n from audit_events where case_id = $1 and action = 'case.opened'`,
        [rows[0].id],
      );
      expect(opened).toEqual([{ n: 1 }]);
    }
    console.log(`[production] API kill -9 during creations: ${ROUNDS} rounds, ${midRequest} before the answer left`);
  });

  it('the same key on another request → 422 IDEMPOTENCY_KEY_REUSED, nothing applied', async () => {
    const key = randomUUID();
    const first = await post('/api/cases/approval-requests', 'manager', key, {
      title: 'First use of a key',
      probability: 2,
      impact: 3,
    });
    expect(first.status).toBe(201);
    const other = await post('/api/cases/approval-requests', 'manager', key, {
      title: 'Another request, same key',
      probability: 2,
      impact: 3,
    });
    expect(other.status).toBe(422);
    expect(other.body.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(await p.sql('select 1 from cases where title = $1', ['Another request, same key'])).toEqual([]);
  });
});
