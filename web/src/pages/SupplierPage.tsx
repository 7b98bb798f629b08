/**
 * One supplier (issue 13 §4 "Supplier page"): its registry entry, its
 * performance records by year, its reviews and the grade each gave (the
 * grade history), and its status changes — GET /api/suppliers/{supplierId}.
 */
import { useQuery } from '@tanstack/react-query';
import { Card, Descriptions, Flex, Table, Tag, Timeline, Typography } from 'antd';
import { Link, useParams } from 'react-router';
import { api, unwrap, type Case } from '../api/client';
import type { components } from '../api/schema';
import { useI18n } from '../i18n';
import { Refusal } from '../Refusal';

type Performance = components['schemas']['SupplierDetail']['performance'][number];

/** Solid tags, dark enough for white text at 4.5:1 (axe-core's contrast check). */
const GRADE_COLOURS: Record<string, string> = { low: '#23663a', medium: '#8a4b00', high: '#b7202e' };
const caseLink = (c: Case) => <Link to={`/cases/${encodeURIComponent(c.id)}`}>{c.title}</Link>;
/** A review's year: the last part of its business key (supplier-review:<supplierId>:<year>). */
const reviewYear = (c: Case) => /(\d{4})$/.exec(c.businessKey)?.[1] ?? '—';

export function SupplierPage() {
  const { supplierId = '' } = useParams();
  const { t, when, stageLabel } = useI18n();
  const s = t.supplierPage;
  const detail = useQuery({
    queryKey: ['supplier', supplierId],
    queryFn: () => unwrap(api.GET('/api/suppliers/{supplierId}', { params: { path: { supplierId } } })),
  });
  if (detail.error) return <Refusal error={detail.error} />;
  if (!detail.data) return <Card loading />;
  const { supplier, performance, reviews, statusChanges } = detail.data;
  const grade = (g: string | null) =>
    g ? <Tag color={GRADE_COLOURS[g] ?? 'default'}>{t.dash.grades[g] ?? g}</Tag> : '—';
  const graded = [...reviews].filter((r) => r.riskLevel).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  const h2 = (text: string) => <h2 style={{ fontSize: 16, margin: 0 }}>{text}</h2>;
  return (
    <Flex vertical gap={16}>
      <Typography.Title level={1} style={{ fontSize: 24, margin: 0 }}>
        {supplier.name}
      </Typography.Title>
      <Card>
        <Descriptions
          column={{ xs: 1, md: 2, xl: 3 }}
          items={[
            { key: 'code', label: t.lists.creditCode, children: <code>{supplier.creditCode}</code> },
            { key: 'category', label: t.lists.category, children: supplier.category },
            { key: 'tier', label: t.lists.tier, children: t.dash.tiers[supplier.tier] ?? supplier.tier },
            {
              key: 'status',
              label: t.status,
              children: <Tag>{t.lists.supplierStatuses[supplier.status] ?? supplier.status}</Tag>,
            },
            {
              key: 'grade',
              label: t.lists.lastGrade,
              children: <span data-testid="supplier-grade">{grade(supplier.lastRiskGrade)}</span>,
            },
            { key: 'owner', label: t.owner, children: supplier.ownerId },
            { key: 'next', label: t.lists.nextReview, children: when(supplier.nextReviewDue) },
            {
              key: 'contact',
              label: s.contact,
              children:
                [supplier.contact.name, supplier.contact.phone, supplier.contact.email].filter(Boolean).join(' · ') ||
                '—',
            },
            {
              key: 'conditions',
              label: s.conditions,
              children: supplier.conditions.length
                ? supplier.conditions.map((c) => `${c.type}: ${c.detail}`).join('; ')
                : '—',
            },
          ]}
        />
      </Card>
      <Card title={h2(s.gradeHistory)}>
        {graded.length ? (
          <Timeline
            data-testid="grade-history"
            items={graded.map((r) => ({
              key: r.id,
              color: GRADE_COLOURS[r.riskLevel ?? ''] ?? 'gray',
              children: (
                <Flex gap={8} align="center" wrap>
                  <strong>{reviewYear(r)}</strong>
                  {grade(r.riskLevel)}
                  {r.outcome ? <span>{r.outcome}</span> : null}
                  {caseLink(r)}
                </Flex>
              ),
            }))}
          />
        ) : (
          <Typography.Text type="secondary">{s.noGrade}</Typography.Text>
        )}
      </Card>
      <Card title={h2(s.reviews)}>
        <Table<Case>
          data-testid="supplier-reviews"
          rowKey="id"
          size="small"
          pagination={false}
          dataSource={reviews}
          locale={{ emptyText: <Typography.Text type="secondary">{t.nothing}</Typography.Text> }}
          columns={[
            { title: s.year, key: 'year', render: (_, r) => reviewYear(r) },
            { title: t.title, key: 'title', render: (_, r) => caseLink(r) },
            { title: t.stage, key: 'stage', render: (_, r) => <Tag>{stageLabel(r.stage, r.process)}</Tag> },
            { title: s.grade, key: 'grade', render: (_, r) => grade(r.riskLevel) },
            { title: t.outcome, key: 'outcome', render: (_, r) => r.outcome ?? '—' },
            { title: t.created, key: 'created', render: (_, r) => when(r.createdAt) },
          ]}
        />
      </Card>
      <Card title={h2(s.performance)}>
        <Table<Performance>
          data-testid="supplier-performance"
          rowKey="year"
          size="small"
          pagination={false}
          dataSource={[...performance].sort((a, b) => b.year - a.year)}
          locale={{ emptyText: <Typography.Text type="secondary">{t.nothing}</Typography.Text> }}
          columns={[
            { title: s.year, dataIndex: 'year', key: 'year' },
            {
              title: s.sampling,
              key: 'sampling',
              render: (_, p) => s.samplingResults[p.samplingResult] ?? p.samplingResult,
            },
            { title: s.complaints, dataIndex: 'complaints', key: 'complaints' },
            {
              title: s.logisticsDelay,
              key: 'delay',
              render: (_, p) => `${(p.logisticsDelayRate * 100).toFixed(1)}%`,
            },
            {
              title: s.financialAbnormal,
              key: 'financial',
              render: (_, p) => (p.financialStatementsAbnormal ? s.yes : s.no),
            },
            { title: s.quality, dataIndex: 'qualityScore', key: 'quality' },
            { title: s.recordedBy, dataIndex: 'recordedBy', key: 'by' },
            { title: s.updated, key: 'updated', render: (_, p) => when(p.updatedAt) },
          ]}
        />
      </Card>
      <Card title={h2(s.statusChanges)}>
        <Table<Case>
          rowKey="id"
          size="small"
          pagination={false}
          dataSource={statusChanges}
          locale={{ emptyText: <Typography.Text type="secondary">{t.nothing}</Typography.Text> }}
          columns={[
            { title: t.title, key: 'title', render: (_, r) => caseLink(r) },
            { title: t.stage, key: 'stage', render: (_, r) => <Tag>{stageLabel(r.stage, r.process)}</Tag> },
            { title: t.outcome, key: 'outcome', render: (_, r) => r.outcome ?? '—' },
            { title: t.created, key: 'created', render: (_, r) => when(r.createdAt) },
          ]}
        />
      </Card>
    </Flex>
  );
}
