import { Tag } from 'antd';
import { Link } from 'react-router';
import { api, unwrap } from '../api/client';
import type { components, paths } from '../api/schema';
import { useI18n } from '../i18n';
import { listQuery } from '../lists/common';
import { KeysetList } from '../lists/KeysetList';

type Supplier = components['schemas']['Supplier'];
type Query = NonNullable<paths['/api/suppliers']['get']['parameters']['query']>;
const STATUSES = [
  'pending',
  'active',
  'restricted',
  'suspended',
  'terminated',
  'blacklisted',
] as const satisfies ReadonlyArray<NonNullable<Query['status']>>;
const TIERS = ['strategic', 'core', 'general'] as const satisfies ReadonlyArray<NonNullable<Query['tier']>>;
const GRADES = ['low', 'medium', 'high'] as const;

/** The supplier register (合作方名录): by name; a row's name opens the supplier's page (records by year, reviews, grades). */
export function SuppliersPage() {
  const { t, when } = useI18n();
  const statusLabel = (s: string) => t.lists.supplierStatuses[s] ?? s;
  return (
    <KeysetList<Supplier>
      id="suppliers"
      title={t.lists.suppliers}
      searchLabel={t.lists.searchSuppliers}
      linkFilters={[{ key: 'ownerId', label: t.caseFilters.ownerIs }]}
      rowKey={(s) => s.id}
      filters={[
        {
          kind: 'select',
          key: 'status',
          label: t.status,
          options: STATUSES.map((s) => ({ value: s, label: statusLabel(s) })),
        },
        {
          kind: 'select',
          key: 'tier',
          label: t.lists.tier,
          options: TIERS.map((v) => ({ value: v, label: t.dash.tiers[v] ?? v })),
        },
        {
          kind: 'select',
          key: 'grade',
          label: t.lists.lastGrade,
          options: GRADES.map((v) => ({ value: v, label: t.dash.grades[v] ?? v })),
        },
        { kind: 'checkbox', key: 'overdue', label: t.lists.reviewOverdue },
      ]}
      columns={[
        {
          key: 'name',
          title: t.lists.name,
          text: (s) => s.name,
          render: (s) => <Link to={`/suppliers/${encodeURIComponent(s.id)}`}>{s.name}</Link>,
        },
        { key: 'creditCode', title: t.lists.creditCode, text: (s) => s.creditCode },
        { key: 'category', title: t.lists.category, text: (s) => s.category },
        { key: 'tier', title: t.lists.tier, text: (s) => t.dash.tiers[s.tier] ?? s.tier },
        {
          key: 'status',
          title: t.status,
          text: (s) => statusLabel(s.status),
          render: (s) => <Tag color={s.status === 'active' ? 'blue' : 'default'}>{statusLabel(s.status)}</Tag>,
        },
        {
          key: 'grade',
          title: t.lists.lastGrade,
          text: (s) => (s.lastRiskGrade ? (t.dash.grades[s.lastRiskGrade] ?? s.lastRiskGrade) : null),
        },
        { key: 'owner', title: t.owner, text: (s) => s.ownerId },
        { key: 'nextReview', title: t.lists.nextReview, text: (s) => when(s.nextReviewDue) },
        {
          key: 'reviewOverdue',
          title: t.lists.reviewOverdue,
          text: (s) => (s.reviewOverdue ? when(s.reviewOverdue.since) : null),
          render: (s) => (s.reviewOverdue ? <Tag color="red">{when(s.reviewOverdue.since)}</Tag> : '—'),
        },
      ]}
      fetchPage={(query, cursor) =>
        unwrap(api.GET('/api/suppliers', { params: { query: listQuery<Query>(query, cursor) } }))
      }
    />
  );
}
