/**
 * The audit programme's rules (审计): audit types, the checklist template of
 * each, finding severities and the annual plan's one hard rule. Pure: the
 * workflow, the contract and the API read the same lists.
 *
 * Sources: compliance audits cover legal, financial, data-security and
 * privacy compliance, with internal audit independent and third parties where
 * objectivity needs it (e-commerce manual §6.4); security audits cover access
 * logs, operation records and incident response (e-commerce §2.4); the
 * data-security compliance check is made at least once a year and covers
 * classification, access control, encryption, backup and audit (e-commerce
 * §2.1–§2.4); internal audit is the independent third line (finance §5.2).
 */
import { formatDuration, parseDuration } from './durations';
import type { StepTimings } from './deadlines';

export const AUDIT_TYPES = ['internal', 'compliance', 'data_security', 'security'] as const;
export type AuditType = (typeof AUDIT_TYPES)[number];

export const AUDIT_TYPE_LABELS: Record<AuditType, { en: string; zh: string }> = {
  internal: { en: 'Internal audit', zh: '内部审计' },
  compliance: { en: 'Compliance audit', zh: '合规审计' },
  data_security: { en: 'Data-security compliance check', zh: '数据安全合规性检查' },
  security: { en: 'Security audit', zh: '安全审计' },
};

export interface ChecklistItem {
  id: string;
  /** What is checked, in the handbook's words. */
  en: string;
  zh: string;
  /** Where the handbook asks for it. */
  source: string;
}

const item = (id: string, en: string, zh: string, source: string): ChecklistItem => ({ id, en, zh, source });

/** The checklist each audit type starts from (审计检查清单). */
export const CHECKLIST_TEMPLATES: Record<AuditType, readonly ChecklistItem[]> = {
  data_security: [
    item(
      'classification',
      'Data classified and graded by sensitivity, with the safeguards of each grade',
      '数据分类与分级',
      'e-commerce manual §2.1',
    ),
    item(
      'access_control',
      'Least-privilege, role-based access control to data',
      '访问控制（最小权限原则）',
      'e-commerce manual §2.1',
    ),
    item('encryption', 'Data encrypted in storage and in transit', '数据加密与传输安全', 'e-commerce manual §2.3'),
    item('backup', 'Data backed up and recovery tested', '数据备份与恢复', 'e-commerce manual §2.1'),
    item(
      'logging',
      'Data-access logs and system operation records kept and reviewed',
      '数据访问日志与系统操作记录',
      'e-commerce manual §2.4',
    ),
    item('incident_response', 'Security incidents responded to and recorded', '安全事件响应', 'e-commerce manual §2.4'),
  ],
  security: [
    item('access_logs', 'Data-access logs kept and reviewed', '数据访问日志', 'e-commerce manual §2.4'),
    item('operation_records', 'System operation records kept and reviewed', '系统操作记录', 'e-commerce manual §2.4'),
    item('incident_response', 'Security incidents responded to and recorded', '安全事件响应', 'e-commerce manual §2.4'),
  ],
  compliance: [
    item('legal', 'Legal compliance', '法律合规', 'e-commerce manual §6.4'),
    item('financial', 'Financial compliance', '财务合规', 'e-commerce manual §6.4'),
    item('data_security', 'Data-security compliance', '数据安全合规', 'e-commerce manual §6.4'),
    item('privacy', 'Privacy compliance', '隐私合规', 'e-commerce manual §6.4'),
  ],
  internal: [
    item('controls_operating', 'Risk controls operate as designed', '内控措施有效运行', 'finance manual §5.2'),
    item(
      'rectification_followed_up',
      'Earlier findings and rectification items followed up',
      '以往审计发现整改跟踪',
      'e-commerce manual §6.4',
    ),
    item('records_kept', 'Decisions recorded with who, when, what and why', '决策记录可追溯', 'policy default'),
  ],
};

export const CHECKLIST_RESULTS = ['pass', 'fail', 'not_applicable'] as const;
export type ChecklistResult = (typeof CHECKLIST_RESULTS)[number];

export const AUDIT_FINDING_SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type AuditFindingSeverity = (typeof AUDIT_FINDING_SEVERITIES)[number];

/** The risk level a finding's rectification item carries (the platform's scale has no 'critical'). */
export function severityRiskLevel(severity: AuditFindingSeverity): 'low' | 'medium' | 'high' {
  return severity === 'critical' ? 'high' : severity;
}

export interface FieldworkResult {
  itemId: string;
  result: ChecklistResult;
  evidenceIds: string[];
}

/**
 * What is wrong with the fieldwork results, or null: every checklist item
 * answered once, none unknown, and every pass or fail backed by evidence
 * (an audit conclusion without evidence is an opinion).
 */
export function fieldworkProblem(
  checklist: readonly ChecklistItem[],
  results: readonly FieldworkResult[],
): { code: 'CHECKLIST_INCOMPLETE' | 'EVIDENCE_REQUIRED'; message: string } | null {
  const ids = new Set(checklist.map((i) => i.id));
  const seen = new Set<string>();
  for (const r of results) {
    if (!ids.has(r.itemId))
      return { code: 'CHECKLIST_INCOMPLETE', message: `${r.itemId} is not on this audit's checklist` };
    if (seen.has(r.itemId)) return { code: 'CHECKLIST_INCOMPLETE', message: `${r.itemId} is answered twice` };
    seen.add(r.itemId);
    if (r.result !== 'not_applicable' && r.evidenceIds.length === 0)
      return { code: 'EVIDENCE_REQUIRED', message: `${r.itemId}: a ${r.result} needs at least one evidence id` };
  }
  const missing = [...ids].filter((id) => !seen.has(id));
  if (missing.length) return { code: 'CHECKLIST_INCOMPLETE', message: `no result for ${missing.join(', ')}` };
  return null;
}

/**
 * The ladder of a finding's management response: due within the policy's
 * audit.findingResponseWithin (escalated then), reminded at half of it,
 * overdue (still owed) at twice it. The split is a policy default.
 */
export function findingResponseTimings(within: string): StepTimings {
  const ms = parseDuration(within);
  return {
    remindAfter: formatDuration(Math.max(1000, Math.floor(ms / 2))),
    escalateAfter: within,
    expireAfter: formatDuration(ms * 2),
  };
}

export interface PlannedAudit {
  auditKey: string;
  type: AuditType;
}

/** How many data-security compliance checks a year's plan holds: one every `months` (policy audit.dataSecurityCheckMonths). */
export function dataSecurityChecksPerYear(months: number): number {
  return Math.ceil(12 / months);
}

/**
 * When the annual audit plan Schedule opens the coming year's plan: 1
 * December, 04:00 UTC. Policy default, not in the handbooks: they set no date,
 * only that the data-security compliance check is made at least once a year
 * (e-commerce manual §2.1), so the plan must exist before the year begins.
 */
export const AUDIT_PLAN_OPENS = { month: 'DECEMBER', dayOfMonth: 1, hour: 4 } as const;

export interface ScheduledPlanAudit extends PlannedAudit {
  title: string;
  plannedFor: string;
}

/**
 * The plan the Schedule opens for a year internal audit has not planned: the
 * data-security compliance checks the manual requires, one every `months`
 * (policy audit.dataSecurityCheckMonths), each planned for the first month of
 * its stretch. Internal audit adds the year's other audits to it.
 */
export function scheduledAuditPlan(year: number, months: number): ScheduledPlanAudit[] {
  const count = dataSecurityChecksPerYear(months);
  return Array.from({ length: count }, (_, i) => ({
    auditKey: count === 1 ? `DS-${year}` : `DS-${year}-${i + 1}`,
    type: 'data_security' as const,
    title: `${AUDIT_TYPE_LABELS.data_security.en} (${AUDIT_TYPE_LABELS.data_security.zh}) ${year}${count === 1 ? '' : ` #${i + 1}`}`,
    plannedFor: `${year}-${String(1 + i * months).padStart(2, '0')}`,
  }));
}

/**
 * The annual plan's rule: it includes the data-security compliance check,
 * which the e-commerce manual §2.1 requires at least once a year; as often
 * as the policy's audit.dataSecurityCheckMonths asks when that is shorter.
 */
export function auditPlanProblem(
  audits: readonly PlannedAudit[],
  dataSecurityCheckMonths = 12,
): { code: 'DATA_SECURITY_CHECK_REQUIRED' | 'DUPLICATE_AUDIT'; message: string } | null {
  const keys = audits.map((a) => a.auditKey);
  const dup = keys.find((k, i) => keys.indexOf(k) !== i);
  if (dup) return { code: 'DUPLICATE_AUDIT', message: `auditKey ${dup} is planned twice` };
  const needed = dataSecurityChecksPerYear(dataSecurityCheckMonths);
  const planned = audits.filter((a) => a.type === 'data_security').length;
  if (planned < needed)
    return {
      code: 'DATA_SECURITY_CHECK_REQUIRED',
      message:
        needed === 1
          ? 'the annual plan must include the data-security compliance check (type data_security): e-commerce manual §2.1 requires it at least once a year'
          : `the annual plan must include ${needed} data-security compliance checks (type data_security), one every ${dataSecurityCheckMonths} months (policy audit.dataSecurityCheckMonths; e-commerce manual §2.1: at least once a year); it has ${planned}`,
    };
  return null;
}
