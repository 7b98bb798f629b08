/**
 * The audit programme's pure rules (domain/audits.ts): the checklist
 * templates, the fieldwork check, the response ladder and the annual plan's
 * data-security rule (e-commerce §2.1).
 */
import { describe, expect, it } from 'vitest';
import {
  AUDIT_TYPES,
  auditPlanProblem,
  CHECKLIST_TEMPLATES,
  dataSecurityChecksPerYear,
  fieldworkProblem,
  findingResponseTimings,
  severityRiskLevel,
} from '../../domain/audits';
import { AUDIT_ID_PATTERN, auditContract } from '../../contracts/audit';
import type { StepContract } from '../../contracts/core';
import { parseDuration } from '../../domain/durations';
import { DEFAULT_POLICY } from '../../domain/policy';

describe('audit checklists', () => {
  it('the data-security checklist covers what e-commerce §2.1–§2.4 lists', () => {
    expect(CHECKLIST_TEMPLATES.data_security.map((i) => i.id)).toEqual([
      'classification',
      'access_control',
      'encryption',
      'backup',
      'logging',
      'incident_response',
    ]);
    for (const i of CHECKLIST_TEMPLATES.data_security) expect(i.source).toMatch(/^e-commerce manual §2\.[1-4]$/);
  });

  it('every type has a checklist with distinct ids, a Chinese label and a source', () => {
    for (const type of AUDIT_TYPES) {
      const ids = CHECKLIST_TEMPLATES[type].map((i) => i.id);
      expect(ids.length, type).toBeGreaterThan(0);
      expect(new Set(ids).size, type).toBe(ids.length);
      for (const i of CHECKLIST_TEMPLATES[type]) {
        expect(i.zh).toMatch(/[\u4e00-\u9fff]/);
        expect(i.source).toMatch(/§|policy default/);
      }
    }
  });
});

describe('fieldworkProblem', () => {
  const checklist = CHECKLIST_TEMPLATES.security;
  const all = checklist.map((i) => ({ itemId: i.id, result: 'pass' as const, evidenceIds: ['e1'] }));

  it('accepts every item answered, with evidence for a pass or fail', () => {
    expect(fieldworkProblem(checklist, all)).toBeNull();
    expect(
      fieldworkProblem(checklist, [
        ...all.slice(1),
        { itemId: all[0]!.itemId, result: 'not_applicable', evidenceIds: [] },
      ]),
    ).toBeNull();
  });

  it('refuses a missing, unknown or repeated item, and a conclusion without evidence', () => {
    expect(fieldworkProblem(checklist, all.slice(1))).toMatchObject({
      code: 'CHECKLIST_INCOMPLETE',
      message: 'no result for access_logs',
    });
    expect(fieldworkProblem(checklist, [...all, { itemId: 'weather', result: 'pass', evidenceIds: ['e'] }])?.code).toBe(
      'CHECKLIST_INCOMPLETE',
    );
    expect(fieldworkProblem(checklist, [...all, all[0]!])?.message).toMatch(/twice/);
    expect(
      fieldworkProblem(checklist, [{ ...all[0]!, result: 'fail', evidenceIds: [] }, ...all.slice(1)]),
    ).toMatchObject({ code: 'EVIDENCE_REQUIRED' });
  });
});

describe('findingResponseTimings', () => {
  it('is due (escalated) at the policy’s response time, reminded at half, overdue at twice', () => {
    const t = findingResponseTimings(DEFAULT_POLICY.audit.findingResponseWithin);
    expect(t).toEqual({ remindAfter: '1w', escalateAfter: '14d', expireAfter: '4w' });
    const s = findingResponseTimings('3s');
    expect(parseDuration(s.remindAfter)).toBeLessThan(parseDuration(s.escalateAfter));
    expect(parseDuration(s.expireAfter)).toBe(6000);
  });

  it('maps critical findings onto the platform’s high risk level', () => {
    expect(severityRiskLevel('critical')).toBe('high');
    expect(severityRiskLevel('low')).toBe('low');
  });
});

describe('auditPlanProblem', () => {
  it('refuses a plan without the data-security compliance check, citing e-commerce §2.1', () => {
    expect(auditPlanProblem([{ auditKey: 'IA', type: 'internal' }])).toMatchObject({
      code: 'DATA_SECURITY_CHECK_REQUIRED',
      message: expect.stringMatching(/e-commerce manual §2\.1/),
    });
    expect(auditPlanProblem([{ auditKey: 'DS', type: 'data_security' }])).toBeNull();
  });

  it('asks for as many checks as the policy’s audit.dataSecurityCheckMonths fits in a year', () => {
    const one = [{ auditKey: 'DS1', type: 'data_security' as const }];
    expect(dataSecurityChecksPerYear(12)).toBe(1);
    expect(dataSecurityChecksPerYear(5)).toBe(3);
    expect(auditPlanProblem(one, 6)?.message).toMatch(/2 data-security compliance checks.*it has 1/);
    expect(auditPlanProblem([...one, { auditKey: 'DS2', type: 'data_security' }], 6)).toBeNull();
  });

  it('refuses an audit planned twice', () => {
    expect(
      auditPlanProblem([
        { auditKey: 'DS', type: 'data_security' },
        { auditKey: 'DS', type: 'compliance' },
      ]),
    ).toMatchObject({ code: 'DUPLICATE_AUDIT', message: 'auditKey DS is planned twice' });
  });
});

describe('the audit contract', () => {
  const steps = Object.entries(auditContract.steps) as Array<[string, StepContract]>;

  it.each(steps)(
    '%s is allowed only in the process’s stages, with a valid example, refusing unknown fields',
    (_, step) => {
      if (step.stages !== 'open') for (const stage of step.stages) expect(auditContract.stages).toContain(stage);
      expect(step.input.safeParse(step.example).success).toBe(true);
      expect(step.input.safeParse({ ...step.example, __unknown__: 1 }).success).toBe(false);
    },
  );

  it('a response accepts with a plan and a date, or disputes with a reason', () => {
    const respond = auditContract.steps.respond.input;
    expect(respond.safeParse({ findingKey: 'F1', response: 'accept', actionPlan: 'Fix' }).success).toBe(false);
    expect(
      respond.safeParse({ findingKey: 'F1', response: 'accept', actionPlan: 'Fix', dueAt: '2030-01-01T00:00:00Z' })
        .success,
    ).toBe(true);
    expect(respond.safeParse({ findingKey: 'F1', response: 'dispute' }).success).toBe(false);
  });

  it('addresses an audit by its business key', () => {
    expect(auditContract.caseId('DSC-2026')).toBe('audit:DSC-2026');
    expect(AUDIT_ID_PATTERN.test('audit:DSC-2026')).toBe(true);
    expect(AUDIT_ID_PATTERN.test('audit:bad key')).toBe(false);
  });
});
