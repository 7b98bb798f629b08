/** The supplier appraisal report (供应商考评报告), JSON shape and printable page. */
import type { ApprovalVote } from '../../domain/approval';
import { LABELS, type ReviewCondition, type ReviewGrade, type RuleFinding } from '../../domain/supplierReview';
import type { SupplierReviewData } from '../../workflows/supplierReview';
import type { toAuditDto, toTaskDto } from '../dto';
import { esc, heading, page, Raw, table } from './html';

export interface SupplierReport {
  caseId: string;
  supplier: { id: string; name: string };
  reviewYear: number;
  reviewerId: string;
  initiatorId: string;
  status: string;
  stage: string;
  outcome: string | null;
  documents: Array<{
    type: string;
    received: boolean;
    fileName: string | null;
    sha256: string | null;
    sizeBytes: number | null;
    uploadedBy: string | null;
    at: string | null;
  }>;
  missingDocuments: string[];
  checks: SupplierReviewData['checks'] | null;
  scores: SupplierReviewData['scores'] | null;
  grade: ReviewGrade | null;
  findings: RuleFinding[];
  decisionChain: Array<ApprovalVote & { conditions: string[] }>;
  decisionEvents: Array<{ seq: number; action: string; actorId: string; at: string; reason: string | null }>;
  conditions: ReviewCondition[];
  rectificationItems: Array<ReturnType<typeof toTaskDto>>;
  nextReviewDue: string | null;
  timeline: Array<ReturnType<typeof toAuditDto>>;
  links: { temporalUi: string };
}

const label = (group: keyof typeof LABELS, key: string) => {
  const entry = (LABELS[group] as Record<string, { en: string; zh: string }>)[key];
  return entry ? `${entry.en} · ${entry.zh}` : key;
};

const OUTCOME_DECISION: Record<string, string> = {
  approved: 'approve',
  approved_with_conditions: 'approve_with_conditions',
  terminated: 'terminate',
  blacklisted: 'blacklist',
};
const outcomeLabel = (outcome: string) =>
  OUTCOME_DECISION[outcome]
    ? label('decision', OUTCOME_DECISION[outcome])
    : outcome === 'expired'
      ? 'Expired · 逾期未决'
      : outcome;

export function renderSupplierReport(r: SupplierReport): string {
  const grade = r.grade;
  const body = [
    heading('Summary', '概要'),
    table(
      ['Case', 'Supplier', 'Credit code', 'Reviewer', 'Started by', 'Status', 'Outcome', 'Next review due'],
      [
        [
          r.caseId,
          r.supplier.name,
          r.supplier.id,
          r.reviewerId,
          r.initiatorId,
          `${r.status} / ${r.stage}`,
          r.outcome ? outcomeLabel(r.outcome) : null,
          r.nextReviewDue,
        ],
      ],
    ),
    heading('Documents', '资料'),
    table(
      ['Document', 'Received', 'File', 'SHA-256', 'By', 'At'],
      r.documents.map((d) => [
        label('document', d.type),
        d.received ? 'yes · 是' : 'MISSING · 缺失',
        d.fileName,
        new Raw(d.sha256 ? `<code>${esc(d.sha256)}</code>` : '—'),
        d.uploadedBy,
        d.at,
      ]),
    ),
    heading('Checks', '信用评级与背景调查'),
    r.checks
      ? table(
          ['Credit rating', 'Agency', 'Background check', 'Notes', 'Source', 'By', 'At'],
          [
            [
              r.checks.creditRating,
              r.checks.creditAgency,
              r.checks.backgroundCheck,
              r.checks.notes,
              r.checks.provider,
              r.checks.by,
              r.checks.at,
            ],
          ],
        )
      : '<p class="empty">Not yet recorded · 尚未录入</p>',
    heading('Scores', '评分'),
    r.scores
      ? table(
          ['Dimension', 'Score (1–5)'],
          [
            ...Object.entries(r.scores.dimensions).map(([d, s]) => [label('dimension', d), s]),
            ['Impact · 影响', r.scores.impact],
            ['Proposed tier · 建议分级', r.scores.proposedTier ? label('tier', r.scores.proposedTier) : null],
            ['Scored by · 评分人', `${r.scores.by} at ${r.scores.at}`],
          ],
        )
      : '<p class="empty">Not yet scored · 尚未评分</p>',
    heading('Risk grade', '风险等级'),
    grade
      ? table(
          ['Weighted score', 'Probability', 'Impact', 'Matrix level', 'Risk grade', 'Recommendation'],
          [
            [
              grade.weightedScore,
              grade.probability,
              grade.impact,
              grade.matrixLevel,
              new Raw(`<span class="grade-${esc(grade.riskGrade)}">${esc(grade.riskGrade)}</span>`),
              label('decision', grade.recommendation),
            ],
          ],
        ) + (grade.reasons.length ? `<ul>${grade.reasons.map((x) => `<li>${esc(x)}</li>`).join('')}</ul>` : '')
      : '<p class="empty">Not yet graded · 尚未评级</p>',
    heading('Handbook rules fired', '触发的规则'),
    table(
      ['Rule', 'Recommendation', 'Years', 'Detail'],
      r.findings.map((f) => [label('rule', f.rule), f.recommendation, f.years.join(', '), f.detail]),
    ),
    heading('Decision chain', '审批链'),
    table(
      ['Approver', 'Decision', 'Conditions', 'Reason', 'At'],
      r.decisionChain.map((v) => [v.userId, label('decision', v.decision), v.conditions.join('; '), v.comment, v.at]),
    ),
    heading('Conditions and rectification items', '附加条件与整改项'),
    table(
      ['Condition', 'Detail'],
      r.conditions.map((c) => [label('condition', c.type), c.detail]),
    ),
    table(
      ['Item', 'Owner', 'Status', 'Due', 'Verified by'],
      r.rectificationItems.map((t) => [t.title, t.assigneeId, t.status, t.dueAt, t.decidedBy]),
    ),
    heading('Audit trail', '审计轨迹'),
    table(
      ['#', 'At', 'Who', 'What', 'Why', 'Evidence'],
      r.timeline.map((e) => [
        e.seq,
        e.occurredAt,
        e.actorId,
        e.action,
        e.reason,
        new Raw(e.evidenceHashes.map((h) => `<code>${esc(h)}</code>`).join('<br>') || '—'),
      ]),
    ),
    `<p>Full replayable history · 完整历史: <a href="${esc(r.links.temporalUi)}">${esc(r.links.temporalUi)}</a></p>`,
  ].join('\n');
  return page(
    `Supplier appraisal report · 供应商考评报告 ${r.reviewYear}`,
    `${r.supplier.name} (${r.supplier.id})`,
    body,
  );
}
