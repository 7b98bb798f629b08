/**
 * Stage names in both languages. The stage keys come from the process
 * contracts (web/src/api/processes.ts, generated); the console shows these
 * words instead of the keys. A key missing here shows as the key with its
 * underscores turned to spaces, and tests/integration/consoleAdmin.test.ts
 * fails when a contract's stage has no label in either language.
 */
export interface StageLabel {
  en: string;
  zh: string;
}

/** One label per stage key, whatever the process. */
export const STAGE_LABELS: Record<string, StageLabel> = {
  awaiting_approval: { en: 'Awaiting approval', zh: '待审批' },
  rectification: { en: 'Rectification', zh: '问题整改' },
  closed: { en: 'Closed', zh: '已关闭' },
  open: { en: 'Open', zh: '待处理' },
  submitted: { en: 'Submitted for verification', zh: '已提交待验证' },
  returned: { en: 'Returned', zh: '已退回' },
  investigating: { en: 'Investigating', zh: '调查中' },
  handling: { en: 'Handling', zh: '处置中' },
  feedback: { en: 'Feedback to the customer', zh: '客户反馈' },
  reported: { en: 'Reported', zh: '已报告' },
  notification: { en: 'Notification', zh: '通报' },
  stabilised: { en: 'Stabilised', zh: '已稳定' },
  evaluation: { en: 'Evaluation', zh: '后续评估' },
  documents: { en: 'Documents', zh: '资料收集' },
  checks: { en: 'Checks', zh: '核查' },
  scoring: { en: 'Scoring', zh: '评分' },
  plan: { en: 'Plan', zh: '计划' },
  do: { en: 'Do', zh: '执行' },
  check: { en: 'Check', zh: '检查' },
  act: { en: 'Act', zh: '处理' },
  effectiveness_watch: { en: 'Effectiveness watch', zh: '成效跟踪' },
  draft: { en: 'Draft', zh: '草拟' },
  published: { en: 'Published', zh: '已发布' },
  planning: { en: 'Planning', zh: '策划' },
  conduct: { en: 'Conduct', zh: '实施' },
  summary: { en: 'Summary report', zh: '总结报告' },
  improvement: { en: 'Improvement', zh: '持续改进' },
  in_force: { en: 'In force', zh: '生效中' },
  fieldwork: { en: 'Fieldwork', zh: '现场审计' },
  findings: { en: 'Findings', zh: '审计发现' },
  responses: { en: 'Management responses', zh: '管理层回复' },
  acknowledgement: { en: 'Acknowledgement', zh: '确认' },
  response_plan: { en: 'Response plan', zh: '应对方案' },
  incident: { en: 'Escalated to an incident', zh: '已升级为事件' },
  review: { en: 'Review', zh: '复核' },
  rating: { en: 'Rating', zh: '评级' },
};

/** Where a process means something narrower by a shared key: `process/stage`. */
export const PROCESS_STAGE_LABELS: Record<string, StageLabel> = {
  'drill/evaluation': { en: 'Drill evaluation', zh: '演练评估' },
  'drill/planning': { en: 'Drill planning', zh: '演练策划' },
  'drill/conduct': { en: 'Drill conduct', zh: '演练实施' },
  'audit/awaiting_approval': { en: 'Audit report awaiting approval', zh: '审计报告待审批' },
  'complaint/handling': { en: 'Handling the complaint', zh: '投诉处理' },
  'incident/handling': { en: 'Emergency handling', zh: '应急处置' },
  'pdca/check': { en: 'Check results', zh: '检查成效' },
  'plan_revision/draft': { en: 'Plan draft', zh: '预案草拟' },
};

/** The stage's words in `lang`, for this process when it has its own. */
export function stageLabelOf(stage: string, lang: 'en' | 'zh', process?: string): string {
  const label = (process ? PROCESS_STAGE_LABELS[`${process}/${stage}`] : undefined) ?? STAGE_LABELS[stage];
  return label ? label[lang] : stage.replace(/_/g, ' ');
}

/**
 * Process names for the processes whose contracts give none (the generated
 * PROCESS_LABELS has only the two of domain/cases.ts); PROCESS_LABELS wins.
 */
export const PROCESS_NAMES: Record<string, StageLabel> = {
  complaint: { en: 'Complaint', zh: '客户投诉' },
  incident: { en: 'Incident', zh: '突发事件' },
  supplier_review: { en: 'Supplier review', zh: '供应商评审' },
  pdca: { en: 'Improvement cycle (PDCA)', zh: '持续改进（PDCA）' },
  plan_revision: { en: 'Emergency plan revision', zh: '应急预案修订' },
  drill: { en: 'Emergency drill', zh: '应急演练' },
  policy_change: { en: 'Policy change', zh: '制度变更' },
  audit_finding: { en: 'Audit finding', zh: '审计发现' },
  supplier_status_change: { en: 'Supplier status change', zh: '供应商状态变更' },
  risk_acceptance: { en: 'Risk acceptance', zh: '风险接受' },
  audit: { en: 'Audit', zh: '审计' },
  risk_warning: { en: 'Risk warning', zh: '风险预警' },
  risk_assessment: { en: 'Risk assessment', zh: '风险评估' },
  risk_report: { en: 'Risk report', zh: '风险报告' },
};
