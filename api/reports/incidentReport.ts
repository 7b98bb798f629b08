/** The incident review report (事件复盘报告): JSON shape and printable page. */
import { parseDuration } from '../../domain/durations';
import { INCIDENT_LABELS } from '../../domain/incidents';
import type { IncidentData } from '../../workflows/incident';
import type { toAuditDto, toTaskDto } from '../dto';
import { esc, heading, page, table } from './html';

export interface IncidentReport {
  caseId: string;
  incidentId: string;
  title: string;
  status: string;
  stage: string;
  outcome: string | null;
  ownerId: string | null;
  reporterId: string;
  data: IncidentData;
  /** Acknowledgement, stabilisation and the regulator's notice against their deadlines: met, pending or missed. */
  responseTimes: ResponseTime[];
  approvals: Array<ReturnType<typeof toTaskDto>>;
  rectificationItems: Array<ReturnType<typeof toTaskDto>>;
  auditTrail: Array<ReturnType<typeof toAuditDto>>;
  links: { temporalUi: string };
}

export interface ResponseTime {
  step: 'acknowledge' | 'stabilise' | 'notify_regulator';
  deadline: string;
  dueAt: string;
  doneAt: string | null;
  minutes: number | null;
  met: boolean | null;
  /** The regulator's notice: when its deadline passed with nothing recorded (it stays on record), and by how much it was late. */
  missedAt?: string | null;
  lateMinutes?: number | null;
  escalatedTo?: string | null;
}

/**
 * How the response measured against the plan of the incident's current
 * grade; the regulator's notice against the deadline the case enforced (the
 * grade that made it due, even after a downgrade), missed or not.
 */
export function responseTimes(data: IncidentData): ResponseTime[] {
  const reported = Date.parse(data.reportedAt);
  const measure = (
    step: ResponseTime['step'],
    deadline: string | undefined,
    doneAt: string | null,
  ): ResponseTime | null => {
    if (!deadline) return null;
    const dueMs = reported + parseDuration(deadline);
    const doneMs = doneAt ? Date.parse(doneAt) : null;
    return {
      step,
      deadline,
      dueAt: new Date(dueMs).toISOString(),
      doneAt,
      minutes: doneMs === null ? null : Math.round((doneMs - reported) / 60_000),
      met: doneMs === null ? null : doneMs <= dueMs,
    };
  };
  const regulator = data.notifications.find((n) => n.audience === 'regulator');
  // Cases reported before the notice was tracked have none: measured from the report, as then.
  const notice = data.regulatorNotice;
  const regulatorTime: ResponseTime | null = notice
    ? {
        step: 'notify_regulator',
        deadline: notice.within,
        dueAt: notice.dueAt,
        doneAt: notice.notifiedAt,
        minutes: notice.notifiedAt === null ? null : Math.round((Date.parse(notice.notifiedAt) - reported) / 60_000),
        met: notice.missedAt ? false : notice.notifiedAt === null ? null : notice.lateMinutes === 0,
        missedAt: notice.missedAt,
        lateMinutes: notice.lateMinutes,
        escalatedTo: notice.escalatedTo,
      }
    : measure('notify_regulator', data.plan.notifyRegulatorWithin, regulator?.notifiedAt ?? null);
  return [
    measure('acknowledge', data.plan.acknowledgeWithin, data.acknowledgedAt),
    measure('stabilise', data.plan.stabiliseWithin, data.stabilisedAt),
    regulatorTime,
  ].filter((r): r is ResponseTime => r !== null);
}

/** How a response time reads in the page: met, pending, or missed with how late. */
function verdict(t: ResponseTime): string {
  if (t.missedAt) {
    const late =
      t.lateMinutes === null || t.lateMinutes === undefined ? 'still not made' : `made ${t.lateMinutes} min late`;
    return `MISSED · 超时 (deadline passed ${t.missedAt}, escalated to ${t.escalatedTo ?? '—'}; ${late})`;
  }
  if (t.met === null) return 'pending';
  return t.met ? 'yes · 达标' : `NO · 超时${t.lateMinutes ? ` (${t.lateMinutes} min late)` : ''}`;
}

export function renderIncidentReport(r: IncidentReport): string {
  const d = r.data;
  const grade = (g: string) => `${g} ${INCIDENT_LABELS.grade[g as keyof typeof INCIDENT_LABELS.grade]?.zh ?? ''}`;
  const body = [
    heading('Summary', '概要'),
    table(
      ['Incident', 'Category', 'System', 'Grade', 'Repeat of', 'Owner', 'Reported by', 'Status'],
      [
        [
          r.incidentId,
          d.category,
          d.system,
          grade(d.grade),
          d.repeatOf,
          r.ownerId,
          r.reporterId,
          `${r.status} / ${r.stage}`,
        ],
      ],
    ),
    heading('Grade history', '定级记录'),
    table(
      ['Grade', 'By', 'At', 'Reason', 'Approved by'],
      d.gradeHistory.map((g) => [grade(g.grade), g.by, g.at, g.reason, (g.approvedBy ?? []).join(', ')]),
    ),
    d.plan.noticesKeptFrom
      ? `<p>Notices due since grade ${esc(d.plan.noticesKeptFrom)} stay due · 原级别要求的通报仍须完成: ${esc(d.plan.mustNotify.join(', '))}</p>`
      : '',
    heading('Downgrade requests', '降级申请'),
    table(
      ['From', 'To', 'Requested by', 'At', 'Reason', 'Outcome', 'Decided by'],
      [...(d.downgrades ?? []), ...(d.pendingDowngrade ? [d.pendingDowngrade] : [])].map((r) => [
        grade(r.from),
        grade(r.to),
        r.requestedBy,
        r.requestedAt,
        r.reason,
        r.outcome ?? 'awaiting approval · 待审批',
        r.decidedBy.join(', '),
      ]),
    ),
    heading('Response times against the plan', '响应时效'),
    table(
      ['Step', 'Deadline', 'Due at', 'Done at', 'Minutes', 'Met'],
      r.responseTimes.map((t) => [t.step, t.deadline, t.dueAt, t.doneAt, t.minutes, verdict(t)]),
    ),
    table(
      ['Escalated at', 'To level', 'Why'],
      d.escalations.map((e) => [e.at, e.toLevel, e.reason]),
    ),
    heading('Timeline', '处置时间线'),
    table(
      ['At', 'By', 'Entry'],
      d.timeline.map((t) => [t.at, t.by, t.entry]),
    ),
    heading('Notifications', '信息通报'),
    table(
      ['Audience', 'Notified at', 'By', 'Summary'],
      d.notifications.map((n) => [n.audience, n.notifiedAt, n.by, n.summary]),
    ),
    heading('Evaluation', '后续评估'),
    d.evaluation
      ? table(
          ['Depth', 'Summary', 'Root cause', 'Contributing factors', 'Lessons', 'By', 'At'],
          [
            [
              d.evaluation.depth === 'short' ? 'short · 简要' : 'full · 完整',
              d.evaluation.summary ?? '',
              d.evaluation.rootCause ?? '',
              d.evaluation.contributingFactors.join('; '),
              d.evaluation.lessons,
              d.evaluation.by,
              d.evaluation.at,
            ],
          ],
        )
      : '<p class="empty">No evaluation yet · 尚未评估</p>',
    heading('Rectification', '整改'),
    table(
      ['Item', 'Owner', 'Status', 'Due', 'Verified by'],
      r.rectificationItems.map((t) => [t.title, t.assigneeId, t.status, t.dueAt, t.decidedBy]),
    ),
    heading('Close-out', '结案审批'),
    table(
      ['Task', 'Status', 'Votes'],
      r.approvals.map((t) => [
        t.title,
        t.status,
        t.votes.map((v) => `${v.userId}: ${v.decision}${v.comment ? ` (${v.comment})` : ''}`).join('; '),
      ]),
    ),
    `<p>Full replayable history · 完整历史: <a href="${esc(r.links.temporalUi)}">${esc(r.links.temporalUi)}</a></p>`,
  ].join('\n');
  return page(`Incident review report · 事件复盘报告`, `${r.incidentId}: ${r.title}`, body);
}
