/**
 * An internal audit finding (审计发现, e-commerce §6.4; the third line of
 * defence, finance §5.2): internal audit records it, and it opens its remedy
 * at once: a rectification item tracked to verification, or an improvement
 * cycle (PDCA) the owner plans. The finding closes when its remedy does.
 * It has no step of its own: the item's and the cycle's steps are theirs.
 */
import { BUSINESS_KEY_PATTERN } from '../domain/cases';
import { defineProcess, SHARED_STAGES } from './core';

export const AUDIT_FINDING_STAGES = [SHARED_STAGES.rectification, 'improvement', SHARED_STAGES.closed] as const;

/** The areas an audit covers (e-commerce §6.4 compliance audits, §2.4 security audits). */
export const AUDIT_AREAS = [
  'legal',
  'financial',
  'data_security',
  'privacy',
  'operations',
  'suppliers',
  'emergency_management',
] as const;

export const FINDING_SEVERITIES = ['low', 'medium', 'high'] as const;
export const FINDING_REMEDIES = ['rectification', 'improvement'] as const;

export const auditFindingContract = defineProcess({
  process: 'audit_finding',
  stages: AUDIT_FINDING_STAGES,
  keyPattern: BUSINESS_KEY_PATTERN,
  caseId: (key: string) => `audit-finding:${key}`,
  steps: {},
});
