/**
 * An audit as a case (审计, issue 12 §4): internal audit opens it with its
 * scope and the checklist of its type (domain/audits.ts) → fieldwork records
 * each checklist item's result with evidence → findings with severity,
 * criterion, root cause and owner → each owner's management response →
 * the report approved by internal audit or compliance, never by those who
 * did the fieldwork or recorded findings → each accepted finding a
 * rectification item verified by internal audit → closed.
 * Sources: e-commerce manual §2.4 (security audits), §6.4 (compliance
 * audits), §2.1 (the yearly data-security compliance check); finance §5.2
 * (internal audit, the independent third line).
 */
import { z } from 'zod';
import { BUSINESS_KEY_PATTERN } from '../domain/cases';
import { AUDIT_FINDING_SEVERITIES, CHECKLIST_RESULTS } from '../domain/audits';
import type { Role } from '../domain/roles';
import { defineProcess, defineStep, SHARED_STAGES } from './core';
import { FINDING_REMEDIES } from './auditFinding';
import { improvementPlanSchema } from './pdca';
import { text, userId } from './schemas';

export const AUDIT_STAGES = [
  'fieldwork',
  'findings',
  'responses',
  SHARED_STAGES.awaitingApproval,
  SHARED_STAGES.rectification,
  SHARED_STAGES.closed,
] as const;
export type AuditStage = (typeof AUDIT_STAGES)[number];

export const AUDIT_STAGE_LABELS: Record<AuditStage, { en: string; zh: string }> = {
  fieldwork: { en: 'Fieldwork against the checklist', zh: '现场审计' },
  findings: { en: 'Audit findings', zh: '审计发现' },
  responses: { en: 'Management responses', zh: '管理层回复' },
  awaiting_approval: { en: 'Audit report awaiting approval', zh: '审计报告待审批' },
  rectification: { en: 'Rectification', zh: '问题整改' },
  closed: { en: 'Closed', zh: '已关闭' },
};

export const AUDIT_ID_PATTERN = new RegExp(`^audit:${BUSINESS_KEY_PATTERN.source.replace(/^\^|\$$/g, '')}$`);

const INTERNAL_AUDIT = ['internal_audit'] as const;
/**
 * The business key of the improvement cycle opened for a finding of an audit:
 * `<auditKey>.<findingKey>`, a valid business key (at most 100 characters;
 * longer pairs are shortened, with a hash of the whole pair kept unique).
 */
export function findingCycleKey(auditKey: string, findingKey: string): string {
  const whole = `${auditKey}.${findingKey}`;
  if (whole.length <= 100) return whole;
  let hash = 0x811c9dc5;
  for (let i = 0; i < whole.length; i++) hash = Math.imul(hash ^ whole.charCodeAt(i), 0x01000193) >>> 0;
  return `${auditKey.slice(0, 60)}.${findingKey.slice(0, 30)}.${hash.toString(16).padStart(8, '0')}`;
}

/** Anyone who may act: the workflow then checks the caller owns the finding. */
const ACTING_ROLES: readonly Role[] = [
  'manager',
  'risk',
  'compliance',
  'legal',
  'internal_audit',
  'action_owner',
  'admin',
];

const findingKey = z.string().regex(BUSINESS_KEY_PATTERN, 'letters, digits, ".", "_" or "-", at most 100');

export const auditContract = defineProcess({
  process: 'audit',
  stages: AUDIT_STAGES,
  keyPattern: BUSINESS_KEY_PATTERN,
  caseId: (key: string) => `audit:${key}`,
  steps: {
    fieldwork: defineStep({
      name: 'recordAuditFieldwork',
      path: 'fieldwork',
      example: {
        results: [{ itemId: 'classification', result: 'not_applicable', evidenceIds: [] }],
      },
      summary:
        'Record the fieldwork: each checklist item pass, fail or not applicable, a pass or fail with evidence ids uploaded to the case (internal audit)',
      input: z
        .object({
          results: z
            .array(
              z
                .object({
                  itemId: z.string().min(1).max(100),
                  result: z.enum(CHECKLIST_RESULTS),
                  evidenceIds: z.array(z.string().min(1).max(100)).max(20).default([]),
                  note: text(2000).optional(),
                })
                .strict(),
            )
            .min(1)
            .max(100),
          thirdPartyReportEvidenceId: z.string().min(1).max(100).optional().meta({
            description: 'the third party’s audit report, uploaded as evidence; required for a third-party audit',
          }),
        })
        .strict(),
      stages: ['fieldwork'] as AuditStage[],
      roles: INTERNAL_AUDIT,
      who: 'internal audit records the fieldwork',
      refusals: {
        CHECKLIST_INCOMPLETE: 'unprocessable',
        EVIDENCE_REQUIRED: 'unprocessable',
        THIRD_PARTY_REPORT_REQUIRED: 'unprocessable',
      },
    } as const),
    findings: defineStep({
      name: 'recordAuditFindings',
      path: 'findings',
      example: { findings: [] },
      summary:
        'Record the audit findings: severity, the criterion breached, root cause and owner of each (internal audit); none when every item passed',
      input: z
        .object({
          findings: z
            .array(
              z
                .object({
                  findingKey,
                  title: text(300),
                  severity: z.enum(AUDIT_FINDING_SEVERITIES),
                  criterion: text(1000).meta({ description: 'the rule breached, e.g. "e-commerce manual §2.3"' }),
                  rootCause: text(2000),
                  ownerId: userId,
                  checklistItemId: z.string().min(1).max(100).optional(),
                })
                .strict(),
            )
            .max(50),
        })
        .strict(),
      stages: ['findings'] as AuditStage[],
      roles: INTERNAL_AUDIT,
      who: 'internal audit records the findings',
      refusals: { FAILED_ITEM_WITHOUT_FINDING: 'unprocessable' },
    } as const),
    respond: defineStep({
      name: 'respondToAuditFinding',
      path: 'responses',
      example: { findingKey: 'F1', response: 'dispute', reason: 'The control is in place; see the Q3 log' },
      summary: 'Respond to a finding as its owner: accept with an action plan and a due date, or dispute with a reason',
      input: z
        .object({
          findingKey,
          response: z.enum(['accept', 'dispute']),
          actionPlan: text(5000).optional(),
          remedy: z.enum(FINDING_REMEDIES).default('rectification').meta({
            description:
              'rectification: one item by dueAt, verified by internal audit; improvement: a PDCA cycle the owner plans, for a systemic cause',
          }),
          dueAt: z.iso.datetime({ offset: true }).optional(),
          improvement: improvementPlanSchema
            .optional()
            .meta({ description: 'required with remedy improvement: what the cycle must achieve, measured' }),
          reason: text(2000).optional(),
        })
        .strict()
        .superRefine((body, ctx) => {
          if (body.response === 'accept' && !body.actionPlan)
            ctx.addIssue({ code: 'custom', path: ['actionPlan'], message: 'accepting needs an actionPlan' });
          if (body.response === 'accept' && body.remedy === 'rectification' && !body.dueAt)
            ctx.addIssue({ code: 'custom', path: ['dueAt'], message: 'a rectification needs a dueAt' });
          if (body.response === 'accept' && body.remedy === 'improvement' && !body.improvement)
            ctx.addIssue({
              code: 'custom',
              path: ['improvement'],
              message: 'an improvement remedy needs its objective and KPIs',
            });
          if (body.improvement && (body.response !== 'accept' || body.remedy !== 'improvement'))
            ctx.addIssue({
              code: 'custom',
              path: ['improvement'],
              message: 'only an accepted finding with remedy improvement takes an improvement',
            });
          if (body.response === 'dispute' && !body.reason)
            ctx.addIssue({ code: 'custom', path: ['reason'], message: 'disputing needs a reason' });
        }),
      stages: ['responses'] as AuditStage[],
      roles: ACTING_ROLES,
      who: 'the finding’s owner responds to it',
      refusals: { UNKNOWN_FINDING: 'unprocessable', DUE_DATE_PAST: 'unprocessable' },
    } as const),
  },
});
