/**
 * The product's custom search attributes: what auditors filter cases on in
 * Temporal UI. No personal data here — owner *role*, never owner name.
 * Registered by `npm start` on the dev server and by the commands in README
 * on a production cluster.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const GovProcess = defineSearchAttributeKey('GovProcess', SearchAttributeType.KEYWORD);
export const GovStage = defineSearchAttributeKey('GovStage', SearchAttributeType.KEYWORD);
export const GovRiskLevel = defineSearchAttributeKey('GovRiskLevel', SearchAttributeType.KEYWORD);
export const GovDueAt = defineSearchAttributeKey('GovDueAt', SearchAttributeType.DATETIME);
export const GovOwnerRole = defineSearchAttributeKey('GovOwnerRole', SearchAttributeType.KEYWORD);
export const GovOutcome = defineSearchAttributeKey('GovOutcome', SearchAttributeType.KEYWORD);
/** Incident grade I–IV (分级), apart from the risk level other processes use. */
export const GovGrade = defineSearchAttributeKey('GovGrade', SearchAttributeType.KEYWORD);

/** The audit type of an audit case (internal, compliance, data_security, security). */
export const GovAuditType = defineSearchAttributeKey('GovAuditType', SearchAttributeType.KEYWORD);
/** The level of a risk warning (general 一般, elevated 较高, major 重大). */
export const GovWarningLevel = defineSearchAttributeKey('GovWarningLevel', SearchAttributeType.KEYWORD);

/**
 * Every key, in registration order. PostgreSQL visibility offers 10 Keyword
 * slots per namespace: 8 are used, 2 are left (docs/production.md).
 */
export const SEARCH_ATTRIBUTE_KEYS = [
  GovProcess,
  GovStage,
  GovRiskLevel,
  GovDueAt,
  GovOwnerRole,
  GovOutcome,
  GovGrade,
  GovAuditType,
  GovWarningLevel,
];
