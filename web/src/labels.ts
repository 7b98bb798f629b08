/**
 * Words for the keys the API answers with: task statuses and the actions of
 * the audit timeline, in both languages (stage and process names are in
 * ./stages.ts, role names in ./i18n.tsx). The console shows these words
 * instead of the keys; a key missing here shows as itself, so a new status
 * or action is never hidden, and tests/unit/i18nLabels.test.ts fails when an
 * action the code writes has no words here.
 */
import type { StageLabel } from './stages';

export type Label = StageLabel;

/** A task's status (tasks.status): the task engine's words for where a task stands. */
export const TASK_STATUS_LABELS: Record<string, Label> = {
  open: { en: 'Open', zh: '待处理' },
  submitted: { en: 'Submitted for verification', zh: '已提交待验证' },
  returned: { en: 'Returned', zh: '已退回' },
  overdue: { en: 'Overdue', zh: '已逾期' },
  done: { en: 'Done', zh: '已完成' },
  expired: { en: 'Expired', zh: '已过期' },
  cancelled: { en: 'Cancelled', zh: '已取消' },
};

/** Supplier statuses, as `supplier.<status>` actions name them. */
const SUPPLIER_STATUS_ACTIONS: Record<string, Label> = {
  'supplier.pending': { en: 'Supplier set to pending', zh: '供应商状态改为待准入' },
  'supplier.active': { en: 'Supplier set to active', zh: '供应商状态改为正常合作' },
  'supplier.restricted': { en: 'Supplier restricted', zh: '供应商被限制合作' },
  'supplier.suspended': { en: 'Supplier suspended', zh: '供应商被暂停合作' },
  'supplier.terminated': { en: 'Cooperation with the supplier ended', zh: '终止与供应商合作' },
  'supplier.blacklisted': { en: 'Supplier blacklisted', zh: '供应商被列入黑名单' },
};

/** An audit event's action (audit_events.action), as the timeline shows it. */
export const AUDIT_ACTION_LABELS: Record<string, Label> = {
  // Every case
  'case.opened': { en: 'Case opened', zh: '案件创建' },
  'case.stage_changed': { en: 'Stage changed', zh: '阶段变更' },
  'case.closed': { en: 'Case closed', zh: '案件关闭' },
  'case.child_failed': { en: 'A linked case failed', zh: '关联案件执行失败' },
  'evidence.uploaded': { en: 'Evidence uploaded', zh: '上传证据' },
  // Tasks, approvals and their deadlines
  'approval.opened': { en: 'Approval requested', zh: '发起审批' },
  'approval.vote_recorded': { en: 'Vote recorded', zh: '记录审批意见' },
  'approval.decided': { en: 'Approval decided', zh: '审批已决定' },
  'approval.reminded': { en: 'Approvers reminded', zh: '提醒审批人' },
  'approval.escalated': { en: 'Approval escalated', zh: '审批已升级' },
  'approval.expired': { en: 'Approval expired', zh: '审批已过期' },
  'step.opened': { en: 'Step opened', zh: '待办步骤开启' },
  'task.reminded': { en: 'Task reminder sent', zh: '发送待办提醒' },
  'task.escalated': { en: 'Task escalated', zh: '待办已升级' },
  'task.overdue': { en: 'Task overdue', zh: '待办已逾期' },
  'task.done': { en: 'Task done', zh: '待办已完成' },
  'task.expired': { en: 'Task expired', zh: '待办已过期' },
  'notification.reminder': { en: 'Reminder sent', zh: '发送提醒' },
  'notification.escalation': { en: 'Escalation sent', zh: '发送升级通知' },
  'notification.expiry': { en: 'Expiry notice sent', zh: '发送过期通知' },
  'notification.overdue': { en: 'Overdue notice sent', zh: '发送逾期通知' },
  // Rectification items
  'rectification.opened': { en: 'Rectification item opened', zh: '整改项创建' },
  'rectification.submitted': { en: 'Rectification submitted', zh: '整改已提交' },
  'rectification.verified': { en: 'Rectification verified', zh: '整改已验证' },
  'rectification.returned': { en: 'Rectification returned', zh: '整改被退回' },
  'rectification.escalated': { en: 'Rectification escalated', zh: '整改已升级' },
  'rectification.failed': { en: 'Rectification failed', zh: '整改失败' },
  // Complaints
  'complaint.investigated': { en: 'Initial investigation recorded', zh: '记录初步调查' },
  'complaint.handling_recorded': { en: 'Handling recorded', zh: '记录处理情况' },
  'complaint.feedback_sent': { en: 'Result sent to the customer', zh: '已向客户反馈结果' },
  'complaint.sla_breached': { en: 'Complaint deadline missed', zh: '投诉时限超时' },
  'complaint.root_cause_recorded': { en: 'Root cause recorded', zh: '记录根因分析' },
  'complaint.root_cause_accepted': { en: 'Root cause accepted', zh: '根因分析已通过' },
  'complaint.root_cause_returned': { en: 'Root cause returned', zh: '根因分析被退回' },
  'complaint.rectification_added': { en: 'Rectification item added', zh: '新增整改项' },
  'complaint.raise_suggested': { en: 'Raising to an incident suggested', zh: '建议升级为事件' },
  'complaint.raised_to_incident': { en: 'Raised to an incident', zh: '已升级为事件' },
  // Incidents
  'incident.acknowledged': { en: 'Incident acknowledged', zh: '事件已确认' },
  'incident.notified': { en: 'Notification made', zh: '已通报' },
  'incident.regulator_notice_missed': { en: 'Regulator notice deadline missed', zh: '监管报告超时' },
  'incident.escalated': { en: 'Incident escalated', zh: '事件已升级' },
  'incident.regraded': { en: 'Incident regraded', zh: '事件重新定级' },
  'incident.downgrade_requested': { en: 'Downgrade requested', zh: '申请下调等级' },
  'incident.downgrade_refused': { en: 'Downgrade refused', zh: '下调申请被驳回' },
  'incident.downgrade_superseded': { en: 'Downgrade request superseded', zh: '下调申请已失效' },
  'incident.stabilised': { en: 'Incident stabilised', zh: '事件已稳定' },
  'incident.timeline_entry': { en: 'Incident log entry', zh: '事件记录' },
  'incident.close_out_requested': { en: 'Close-out requested', zh: '申请结案' },
  'incident.close_out_refused': { en: 'Close-out refused', zh: '结案申请被驳回' },
  'incident.evaluated': { en: 'Incident evaluated', zh: '事件已评估' },
  'incident.repeat_flagged': { en: 'Repeat incident flagged', zh: '标记为重复事件' },
  'incident.linked_warning': { en: 'Risk warning linked', zh: '关联风险预警' },
  'incident.joined_by_warning': { en: 'Joined by a risk warning', zh: '风险预警并入' },
  // Suppliers and their reviews
  'supplier.registered': { en: 'Supplier registered', zh: '供应商登记' },
  'supplier.updated': { en: 'Supplier updated', zh: '供应商信息更新' },
  'supplier.performance_recorded': { en: 'Performance recorded', zh: '记录履约表现' },
  'supplier.review_applied': { en: 'Review result applied', zh: '评审结果生效' },
  'supplier.review_overdue': { en: 'Review overdue', zh: '评审逾期' },
  ...SUPPLIER_STATUS_ACTIONS,
  'supplier_review.document_received': { en: 'Document received', zh: '收到评审资料' },
  'supplier_review.checks_recorded': { en: 'Checks recorded', zh: '记录核查结果' },
  'supplier_review.graded': { en: 'Supplier graded', zh: '供应商已评级' },
  // Improvement cycles (PDCA)
  'pdca.plan_submitted': { en: 'Plan submitted', zh: '提交改进计划' },
  'pdca.awaiting_actuals': { en: 'Awaiting the actual figures', zh: '等待填报实际值' },
  'pdca.awaiting_recheck': { en: 'Awaiting the recheck figures', zh: '等待填报复查值' },
  'pdca.checked': { en: 'Results checked', zh: '成效已检查' },
  'pdca.rechecked': { en: 'Results rechecked', zh: '成效已复查' },
  'pdca.results_disputed': { en: 'Results disputed', zh: '成效结果有异议' },
  'pdca.targets_met': { en: 'Targets met', zh: '目标已达成' },
  'pdca.targets_missed': { en: 'Targets missed', zh: '目标未达成' },
  'pdca.standardised': { en: 'Standardised', zh: '已标准化' },
  'pdca.next_cycle': { en: 'Next cycle started', zh: '开启下一轮改进' },
  // Emergency plans and drills
  'plan.registered': { en: 'Plan registered', zh: '预案登记' },
  'plan.draft_submitted': { en: 'Draft submitted', zh: '提交预案草稿' },
  'plan.returned_to_draft': { en: 'Returned to draft', zh: '退回修改' },
  'plan.reviewed': { en: 'Plan reviewed', zh: '预案已评审' },
  'plan.approved': { en: 'Plan approved', zh: '预案已批准' },
  'plan.version_published': { en: 'Plan version published', zh: '预案新版本发布' },
  'drill.planned': { en: 'Drill planned', zh: '演练已策划' },
  'drill.submitted_for_approval': { en: 'Drill plan submitted for approval', zh: '演练方案提交审批' },
  'drill.plan_returned': { en: 'Drill plan returned', zh: '演练方案被退回' },
  'drill.conducted': { en: 'Drill conducted', zh: '演练已实施' },
  'drill.summary_submitted': { en: 'Summary report submitted', zh: '提交总结报告' },
  'drill.summary_submitted_for_approval': { en: 'Summary report submitted for approval', zh: '总结报告提交审批' },
  'drill.evaluated': { en: 'Drill evaluated', zh: '演练已评估' },
  'drill.overdue': { en: 'Drill overdue', zh: '演练逾期' },
  // Audits and findings
  'audit_plan.created': { en: 'Audit plan created', zh: '创建审计计划' },
  'audit_plan.audits_added': { en: 'Audits added to the plan', zh: '审计计划新增审计项目' },
  'audit.checkpoint': { en: 'Audit chain checkpoint', zh: '审计链检查点' },
  'audit.fieldwork_recorded': { en: 'Fieldwork recorded', zh: '记录现场审计' },
  'audit.findings_recorded': { en: 'Findings recorded', zh: '记录审计发现' },
  'audit.finding_accepted': { en: 'Finding accepted', zh: '审计发现已接受' },
  'audit.finding_disputed': { en: 'Finding disputed', zh: '审计发现有异议' },
  'audit.responses_complete': { en: 'Management responses complete', zh: '管理层回复完成' },
  'audit.report_returned': { en: 'Audit report returned', zh: '审计报告被退回' },
  'audit.report_released': { en: 'Audit report released', zh: '审计报告发布' },
  // The risk register, warnings, assessments and reports
  'risk.created': { en: 'Risk registered', zh: '风险登记' },
  'risk.updated': { en: 'Risk updated', zh: '风险更新' },
  'risk.linked': { en: 'Risk linked', zh: '关联风险' },
  'risk.control_added': { en: 'Control added', zh: '新增控制措施' },
  'risk.control_tested': { en: 'Control tested', zh: '控制措施测试' },
  'risk.acceptance_requested': { en: 'Risk acceptance requested', zh: '申请风险接受' },
  'risk.acceptance_approved': { en: 'Risk acceptance approved', zh: '风险接受已批准' },
  'risk.acceptance_rejected': { en: 'Risk acceptance rejected', zh: '风险接受被驳回' },
  'risk.acceptance_lapsed': { en: 'Risk acceptance lapsed', zh: '风险接受申请失效' },
  'risk.acceptance_in_force': { en: 'Risk acceptance in force', zh: '风险接受生效' },
  'risk.acceptance_stale': { en: 'Risk acceptance stale', zh: '风险接受待重审' },
  'risk.acceptance_closed': { en: 'Risk acceptance closed', zh: '风险接受已关闭' },
  'risk.acceptance_cancelled': { en: 'Risk acceptance cancelled', zh: '风险接受已取消' },
  'kri.defined': { en: 'Key risk indicator defined', zh: '定义关键风险指标' },
  'kri.observed': { en: 'Indicator value observed', zh: '记录指标观测值' },
  'kri.warning_raised': { en: 'Risk warning raised', zh: '触发风险预警' },
  'warning.acknowledged': { en: 'Warning acknowledged', zh: '预警已确认' },
  'warning.response_planned': { en: 'Response planned', zh: '制定应对方案' },
  'warning.reviewed': { en: 'Warning reviewed', zh: '预警已复核' },
  'warning.incident_opened': { en: 'Incident opened from the warning', zh: '由预警发起事件' },
  'warning.incident_joined': { en: 'Joined an open incident', zh: '并入已有事件' },
  'warning.incident_closed': { en: 'Its incident closed', zh: '关联事件已关闭' },
  'warning.closed': { en: 'Warning closed', zh: '预警已关闭' },
  'risk_assessment.rated': { en: 'Risks rated', zh: '完成风险评级' },
  'risk_assessment.returned': { en: 'Assessment returned', zh: '评估被退回' },
  'risk_report.prepared': { en: 'Risk report prepared', zh: '风险报告已编制' },
  'risk_report.released': { en: 'Risk report released', zh: '风险报告发布' },
  'risk_report.rejected': { en: 'Risk report rejected', zh: '风险报告被驳回' },
  'risk_report.lapsed': { en: 'Risk report lapsed', zh: '风险报告已失效' },
  'risk_report.closed': { en: 'Risk report closed', zh: '风险报告已关闭' },
  // Policies, people and tokens
  'policy.version_published': { en: 'Policy version published', zh: '制度新版本发布' },
  'user.created': { en: 'User created', zh: '创建用户' },
  'user.updated': { en: 'User updated', zh: '更新用户' },
  'user.deactivated': { en: 'User deactivated', zh: '停用用户' },
  'user.reactivated': { en: 'User reactivated', zh: '重新启用用户' },
  'user.password_set': { en: 'Password set', zh: '设置密码' },
  'user.locked_out': { en: 'User locked out', zh: '用户被锁定' },
  'user.identity_linked': { en: 'Identity provider account linked', zh: '关联身份提供方账户' },
  'token.issued': { en: 'API token issued', zh: '签发 API 令牌' },
  'token.revoked': { en: 'API token revoked', zh: '吊销 API 令牌' },
  'codec.encoded': { en: 'Payload sealed', zh: '数据已加密' },
  'codec.decoded': { en: 'Payload opened', zh: '数据已解密' },
};

/** The label's words in `lang`, or the key itself when it has none. */
export function labelOf(labels: Record<string, Label>, key: string, lang: 'en' | 'zh'): string {
  return Object.hasOwn(labels, key) ? labels[key]![lang] : key;
}
