/** The drill summary report (应急演练总结报告): JSON shape and printable page. */
import { DRILL_LABELS, DRILL_STANDARD } from '../../domain/drills';
import type { DrillData } from '../../workflows/drill';
import type { toAuditDto, toTaskDto } from '../dto';
import { esc, heading, page, table } from './html';

export interface DrillReport {
  caseId: string;
  title: string;
  status: string;
  stage: string;
  data: DrillData;
  approvals: Array<ReturnType<typeof toTaskDto>>;
  rectificationItems: Array<ReturnType<typeof toTaskDto>>;
  auditTrail: Array<ReturnType<typeof toAuditDto>>;
  links: { temporalUi: string };
}

export function renderDrillReport(r: DrillReport): string {
  const d = r.data;
  const moduleLabel = (m: string) => {
    const l = (DRILL_LABELS.module as Record<string, { en: string; zh: string }>)[m];
    return l ? `${l.en} · ${l.zh}` : m;
  };
  const body = [
    heading('Drill', '演练'),
    table(
      ['Plan', 'Year', 'Status', 'Due', 'Overdue'],
      [[d.planId, d.year, `${r.status} / ${r.stage}`, d.dueAt, d.overdue ? 'yes · 逾期' : 'no']],
    ),
    table(
      ['Scenario', 'Scheduled', 'Participants'],
      d.plan ? [[d.plan.scenario, d.plan.scheduledAt, d.plan.participants.join(', ')]] : [],
    ),
    heading('Conduct', '实施'),
    table(
      ['Started', 'Ended', 'Observations'],
      d.conduct ? [[d.conduct.startedAt, d.conduct.endedAt, d.conduct.observations]] : [],
    ),
    heading('Evaluation against the standard', '评估'),
    table(
      ['Module', 'Score', 'Pass mark', 'Weight', 'Passed'],
      (d.evaluation?.modules ?? []).map((m) => [
        moduleLabel(m.module),
        m.score,
        m.passMark,
        DRILL_STANDARD.modules[m.module].weight,
        m.passed ? 'yes · 合格' : 'NO · 不合格',
      ]),
    ),
    d.evaluation
      ? `<p>Overall · 总分: <strong>${esc(d.evaluation.overall)}</strong> (pass mark ${esc(d.evaluation.overallPassMark ?? DRILL_STANDARD.overallPassMark)}) — ${d.evaluation.passed ? 'passed · 通过' : 'failed · 未通过'}</p>`
      : '',
    heading('Findings and rectification', '发现问题与整改'),
    table(
      ['Item', 'Owner', 'Status', 'Verified by'],
      r.rectificationItems.map((t) => [t.title, t.assigneeId, t.status, t.decidedBy]),
    ),
    heading('Summary report', '总结报告'),
    table(
      ['Problems', 'Lessons', 'Changes to the plan', 'Revision needed'],
      d.summary
        ? [[d.summary.problems, d.summary.lessons, d.summary.planChanges, d.summary.revisionNeeded ? 'yes' : 'no']]
        : [],
    ),
    table(
      ['Revision required', 'Why', 'Revision case'],
      d.revision ? [[d.revision.required ? 'yes · 需修订' : 'no', d.revision.reason, d.revision.caseId]] : [],
    ),
    heading('Approvals', '审批'),
    table(
      ['Task', 'Status', 'Votes'],
      r.approvals.map((t) => [t.title, t.status, t.votes.map((v) => `${v.userId}: ${v.decision}`).join('; ')]),
    ),
    `<p>Full replayable history · 完整历史: <a href="${esc(r.links.temporalUi)}">${esc(r.links.temporalUi)}</a></p>`,
  ].join('\n');
  return page('Drill summary report · 应急演练总结报告', r.title, body);
}
