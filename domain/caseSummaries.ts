/**
 * What Temporal UI shows an auditor about a case instead of a bare workflow
 * type (issue 13 §9): a one-line static summary and markdown details, in
 * Chinese and English, set once when the case starts (SDK 1.24
 * `staticSummary` / `staticDetails`). Pure; platform/cases.ts passes the
 * result into the start options.
 */

/** Each process's name in both languages; an unknown process shows its stored name. */
export const PROCESS_NAMES: Record<string, { en: string; zh: string }> = {
  approval_request: { en: 'Approval request', zh: '审批申请' },
  rectification: { en: 'Rectification item', zh: '整改项' },
  audit: { en: 'Internal audit', zh: '内部审计' },
  audit_finding: { en: 'Audit finding', zh: '审计发现' },
  complaint: { en: 'Complaint', zh: '投诉' },
  drill: { en: 'Emergency drill', zh: '应急演练' },
  incident: { en: 'Incident', zh: '突发事件' },
  pdca: { en: 'PDCA improvement cycle', zh: 'PDCA 改进循环' },
  plan_revision: { en: 'Emergency plan revision', zh: '应急预案修订' },
  policy_change: { en: 'Policy change', zh: '制度变更' },
  risk_warning: { en: 'Risk warning', zh: '风险预警' },
  risk_assessment: { en: 'Risk assessment', zh: '风险评估' },
  risk_report: { en: 'Risk report', zh: '风险信息报告' },
  risk_acceptance: { en: 'Risk acceptance', zh: '风险接受' },
  supplier_review: { en: 'Supplier review', zh: '供应商评审' },
  supplier_status_change: { en: 'Supplier status change', zh: '供应商状态变更' },
};

/** Temporal UI keeps summaries short; longer ones are cut with an ellipsis. */
const SUMMARY_MAX = 200;

/** The `title` a case's input names, when it names one (most processes' first argument does). */
export function titleOf(args: readonly unknown[]): string | undefined {
  const first = args[0] as { title?: unknown } | undefined;
  return typeof first?.title === 'string' && first.title.trim() ? first.title.trim() : undefined;
}

export function caseStartMetadata(start: { process: string; caseId: string; stage: string; title?: string }): {
  staticSummary: string;
  staticDetails: string;
} {
  const name = PROCESS_NAMES[start.process] ?? { en: start.process, zh: start.process };
  const about = start.title ?? start.caseId;
  const summary = `${name.zh} · ${name.en}: ${about}`;
  return {
    staticSummary: summary.length > SUMMARY_MAX ? `${summary.slice(0, SUMMARY_MAX - 1)}…` : summary,
    staticDetails: [
      `**${about}**`,
      `流程 · Process: ${name.zh} · ${name.en}`,
      `业务编号 · Business key: \`${start.caseId}\``,
      `初始阶段 · Stage at start: ${start.stage}`,
    ].join('\n\n'),
  };
}
