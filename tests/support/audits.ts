/**
 * An audit (issue 12 §4) driven through the API to a stage, for tests that
 * need one waiting there: opened by internal audit on a security checklist
 * and owned by `owner`; at `findings` its fieldwork is recorded; at
 * `responses` finding F1 of `owner` is recorded too.
 */
import { expect } from 'vitest';
import type { Harness } from './harness';

export type AuditStage = 'fieldwork' | 'findings' | 'responses';

const enc = encodeURIComponent;

export async function auditAtStage(h: Harness, stage: AuditStage): Promise<{ auditKey: string; caseId: string }> {
  const auditKey = h.unique('AUD');
  const caseId = `audit:${auditKey}`;
  const started = await h.api('POST', '/api/audits', {
    as: 'internalAudit',
    json: { auditKey, type: 'security', title: 'Matrix audit', scope: 'All', auditeeOwnerId: 'owner' },
  });
  expect(started.status, JSON.stringify(started.body)).toBe(201);
  const results = ['access_logs', 'operation_records', 'incident_response'].map((itemId) => ({
    itemId,
    result: 'not_applicable',
  }));
  if (stage !== 'fieldwork') {
    const res = await h.api('POST', `/api/audits/${enc(auditKey)}/fieldwork`, {
      as: 'internalAudit',
      json: { results },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  }
  if (stage === 'responses') {
    const res = await h.api('POST', `/api/audits/${enc(auditKey)}/findings`, {
      as: 'internalAudit',
      json: {
        findings: [
          {
            findingKey: 'F1',
            title: 'Access logs not reviewed',
            severity: 'medium',
            criterion: 'e-commerce manual §2.4',
            rootCause: 'No review routine',
            ownerId: 'owner',
          },
        ],
      },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  }
  return { auditKey, caseId };
}
