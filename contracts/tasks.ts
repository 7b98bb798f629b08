/**
 * The steps every process shares, taken on a task rather than on a case:
 * deciding an approval (any process's approval wait, workflows/shared/
 * approvals.ts) and completing and verifying a rectification item (整改项,
 * workflows/rectificationItem.ts). Who may take them is a domain rule
 * (domain/approval.ts `checkDecision`, domain/rectification.ts), since it
 * depends on the task: its candidate roles, whom it excludes, its votes.
 */
import { z } from 'zod';
import { APPROVAL_DECISIONS, type ApprovalStatus, type ApprovalVote } from '../domain/approval';
import { DEFAULT_VERIFIER_ROLES, type RectificationStatus } from '../domain/rectification';
import { RECTIFICATION_STAGES } from '../domain/cases';
import { defineProcess, stepReturning, type StepCall } from './core';

export const decisionInput = z
  .object({
    decision: z
      .string()
      .regex(/^[a-z_]{1,50}$/, 'a decision such as approve, approve_with_conditions or reject')
      .meta({
        description: `one of the task's allowedDecisions, e.g. ${APPROVAL_DECISIONS.join(', ')}; a supplier review also offers terminate and blacklist`,
      }),
    comment: z.string().max(5000).optional(),
    conditions: z.array(z.string().trim().min(1).max(500)).max(20).optional(),
    /** Names the approval task within its case; the API fills it from the path. */
    taskId: z.string().min(1).max(300),
    /** Lets the audit entry name the HTTP request; the API fills it. */
    requestId: z.string().max(100).optional(),
  })
  .strict();

export interface DecideResult {
  taskId: string;
  /** The approval's status after this vote: still open when a second approver is needed. */
  status: ApprovalStatus;
  votes: ApprovalVote[];
}

export const evidenceRef = z.object({ id: z.string().min(1), sha256: z.string().regex(/^[0-9a-f]{64}$/) }).strict();
export type EvidenceRef = z.infer<typeof evidenceRef>;

export interface RectificationResult {
  status: RectificationStatus;
  submissions: number;
}

const APPROVAL_REFUSALS = {
  NOT_AWAITING_DECISION: 'conflict',
  SEGREGATION_OF_DUTIES: 'unprocessable',
  FOUR_EYES: 'unprocessable',
  INVALID_DECISION: 'unprocessable',
  REASON_AGAINST_RECOMMENDATION: 'unprocessable',
} as const;

export const taskContract = defineProcess({
  process: 'task',
  stages: RECTIFICATION_STAGES,
  keyPattern: /^[A-Za-z0-9][A-Za-z0-9._:-]{0,299}$/,
  caseId: (taskId: string) => taskId,
  steps: {
    decision: stepReturning<DecideResult>()({
      name: 'decide',
      summary: 'Decide an approval: approve, approve with conditions, or reject',
      input: decisionInput,
      stages: 'open',
      roles: [],
      who: 'the approval’s candidate roles decide it (see the task)',
      refusals: APPROVAL_REFUSALS,
    }),
    submission: stepReturning<RectificationResult>()({
      name: 'submitRectification',
      summary: 'Submit a rectification item as done, with evidence (owner only)',
      input: z
        .object({ evidence: z.array(evidenceRef).min(1).max(50), comment: z.string().max(5000).optional() })
        .strict(),
      stages: ['open', 'returned'],
      roles: [],
      owner: true,
      who: 'only the item owner may submit its completion',
      refusals: {
        NOT_AWAITING_SUBMISSION: 'conflict',
        NOT_THE_OWNER: 'forbidden',
        EVIDENCE_REQUIRED: 'unprocessable',
      },
    } as const),
    verification: stepReturning<RectificationResult>()({
      name: 'verifyRectification',
      summary: 'Verify a submitted rectification item: accept, or return with a reason (not by its owner)',
      input: z.object({ verdict: z.enum(['accept', 'return']), reason: z.string().max(5000).optional() }).strict(),
      stages: ['submitted'],
      roles: DEFAULT_VERIFIER_ROLES,
      who: `verifying needs the role ${DEFAULT_VERIFIER_ROLES.join(' or ')}`,
      refusals: {
        NOT_AWAITING_VERIFICATION: 'conflict',
        SEGREGATION_OF_DUTIES: 'unprocessable',
        REASON_REQUIRED: 'unprocessable',
      },
    } as const),
  },
});

/** The decision's Update carries the body, the task and who acts. */
export type DecideInput = StepCall<z.infer<typeof decisionInput>>;
