/**
 * The vocabulary every governance case shares: processes, stages, status and
 * outcomes, as stored in the read model and mirrored in search attributes.
 */
export const PROCESSES = ['approval_request', 'rectification'] as const;
export type ProcessKind = (typeof PROCESSES)[number];

export const PROCESS_LABELS: Record<ProcessKind, { en: string; zh: string }> = {
  approval_request: { en: 'Approval request', zh: '审批申请' },
  rectification: { en: 'Rectification item', zh: '整改项' },
};

export type CaseStatus = 'open' | 'closed';

export const CASE_OUTCOMES = [
  'approved',
  'approved_with_conditions',
  'rejected',
  'expired',
  'verified',
  'cancelled',
  'terminated',
  'blacklisted',
  'closed_out',
  'resolved',
  'standardised',
  /** A run that does its work and ends (the supplier review campaign). */
  'completed',
] as const;
export type CaseOutcome = (typeof CASE_OUTCOMES)[number];

/** Stages of an approval request, in order. */
export const APPROVAL_REQUEST_STAGES = ['awaiting_approval', 'rectification', 'closed'] as const;
/** Stages of a rectification item, in order. */
export const RECTIFICATION_STAGES = ['open', 'submitted', 'returned', 'closed'] as const;

export type TaskKind = 'approval' | 'rectification';
export type TaskStatus = 'open' | 'submitted' | 'returned' | 'done' | 'expired';

/** Temporal workflow ids come from business keys, so a second start is refused. */
export const workflowIdFor = {
  approvalRequest: (requestKey: string) => `approval-request:${requestKey}`,
  rectification: (parentCaseId: string, itemNo: number) => `${parentCaseId}:rectification:${itemNo}`,
};

export const BUSINESS_KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
