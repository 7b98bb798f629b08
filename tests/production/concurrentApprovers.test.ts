/**
 * Two approvers deciding the same task at the same instant, through the
 * production API: exactly one decision is applied, the other is told why.
 */
import { describe, expect, it } from 'vitest';
import { useProduction } from '../support/production';
import { stepUpdates } from './cases';

const p = useProduction();
const enc = encodeURIComponent;
const ROUNDS = 5;

describe('two approvers at the same instant', () => {
  it(`exactly one decision applies, the other gets 409/422 with a reason (${ROUNDS} rounds)`, async () => {
    const outcomes: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      // Medium risk: one approval decides the case.
      const started = await p.api('POST', '/api/cases/approval-requests', {
        as: 'manager',
        json: { requestKey: p.unique('RACE'), title: 'Two approvers at once', probability: 2, impact: 3 },
      });
      expect(started.status, JSON.stringify(started.body)).toBe(201);
      const caseId: string = started.body.caseId;
      const taskId = `${caseId}:approval`;
      const decide = (as: 'approver' | 'approver2', decision: string) =>
        p.api('POST', `/api/tasks/${enc(taskId)}/decision`, { as, json: { decision, comment: `${as} at once` } });
      // One approves, the other rejects: which one applied shows in the outcome.
      const answers = await Promise.all([decide('approver', 'approve'), decide('approver2', 'reject')]);
      const applied = answers.filter((a) => a.status === 200);
      const refused = answers.filter((a) => a.status !== 200);
      expect(applied, JSON.stringify(answers.map((a) => [a.status, a.body]))).toHaveLength(1);
      expect([409, 422]).toContain(refused[0]!.status);
      expect(refused[0]!.body.error.code).toBeTruthy();
      expect(refused[0]!.body.error.message.length).toBeGreaterThan(10);

      const winner =
        answers[0]!.status === 200 ? { id: 'appr1', outcome: 'approved' } : { id: 'appr2', outcome: 'rejected' };
      const result = await p.temporal.workflow.getHandle(caseId).result();
      expect(result.outcome).toBe(winner.outcome);
      const [task] = await p.sql('select status, decided_by, votes from tasks where id = $1', [taskId]);
      expect(task.decided_by).toBe(winner.id);
      expect(task.votes).toHaveLength(1);
      const decided = await p.sql(
        `select actor_id from audit_events where task_id = $1 and action = 'approval.decided'`,
        [taskId],
      );
      expect(decided).toEqual([{ actor_id: winner.id }]);
      const history = await p.temporal.workflow.getHandle(caseId).fetchHistory();
      expect(stepUpdates(history)).toHaveLength(1);
      outcomes.push(
        `${answers.map((a) => a.status).join('/')} (${refused[0]!.body.error.reason ?? refused[0]!.body.error.code})`,
      );
    }
    console.log(`[production] two approvers at once, ${ROUNDS} rounds: ${outcomes.join(', ')}`);
  });
});
