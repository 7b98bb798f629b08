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
 * The period a periodic case is for: a risk assessment's (2026-Q4), a risk
 * report's (2026-11, 2026-Q4…), an audit plan's year (2027). One attribute
 * across processes, as docs/production.md keeps the Keyword slots for.
 */
export const GovPeriod = defineSearchAttributeKey('GovPeriod', SearchAttributeType.KEYWORD);

/**
 * Every key, in registration order. PostgreSQL visibility offers 10 Keyword
 * slots per namespace: 9 are used, 1 is left (docs/production.md).
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
  GovPeriod,
];
