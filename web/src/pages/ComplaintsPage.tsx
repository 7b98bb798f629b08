import { Flex, Tag } from 'antd';
import { api, unwrap } from '../api/client';
import { CHOICES } from '../api/processes';
import type { components, paths } from '../api/schema';
import { useI18n } from '../i18n';
import { listQuery, useCaseFilters } from '../lists/common';
import { KeysetList } from '../lists/KeysetList';

type Complaint = components['schemas']['ComplaintSummary'];
type Query = NonNullable<paths['/api/complaints']['get']['parameters']['query']>;
const SEVERITIES = CHOICES.complaintSeverities satisfies ReadonlyArray<NonNullable<Query['severity']>>;
const TYPES = CHOICES.complaintTypes satisfies ReadonlyArray<NonNullable<Query['type']>>;

/** Customer complaints (客户投诉), newest first, with their clocks. */
export function ComplaintsPage() {
  const { t, lang, when, stageLabel } = useI18n();
  return (
    <KeysetList<Complaint>
      id="complaints"
      title={t.lists.complaints}
      searchLabel={t.lists.searchTitle}
      linkFilters={[{ key: 'ownerId', label: t.caseFilters.ownerIs }]}
      rowKey={(r) => r.caseId}
      caseId={(r) => r.caseId}
      filters={[
        {
          kind: 'select',
          key: 'type',
          label: t.lists.complaintType,
          options: TYPES.map((v) => ({ value: v, label: v.replace(/_/g, ' ') })),
        },
        {
          kind: 'select',
          key: 'severity',
          label: t.lists.severity,
          options: SEVERITIES.map((s) => ({ value: s, label: s })),
        },
        ...useCaseFilters('complaint'),
      ]}
      columns={[
        { key: 'complaintId', title: t.case, text: (r) => r.complaintId },
        { key: 'subject', title: t.lists.subject, text: (r) => r.subject, linksToCase: true },
        {
          key: 'type',
          title: t.lists.complaintType,
          text: (r) => (r.typeLabel ? (lang === 'zh-CN' ? r.typeLabel.zh : r.typeLabel.en) : r.type),
        },
        { key: 'severity', title: t.lists.severity, text: (r) => r.severity },
        { key: 'channel', title: t.lists.channel, text: (r) => r.channel.replace(/_/g, ' ') },
        { key: 'handler', title: t.lists.handler, text: (r) => r.handlerId },
        {
          key: 'stage',
          title: t.stage,
          text: (r) => stageLabel(r.stage, 'complaint'),
          render: (r) => <Tag>{stageLabel(r.stage, 'complaint')}</Tag>,
        },
        {
          key: 'status',
          title: t.status,
          text: (r) =>
            (r.status === 'open' ? t.open : t.closed) + (r.breaches.length ? ` · ${r.breaches.join(', ')}` : ''),
          render: (r) => (
            <Flex gap={4}>
              <Tag color={r.status === 'open' ? 'blue' : 'default'}>{r.status === 'open' ? t.open : t.closed}</Tag>
              {r.breaches.map((b) => (
                <Tag key={b} color="red">
                  {b}
                </Tag>
              ))}
            </Flex>
          ),
        },
        { key: 'accepted', title: t.lists.opened, text: (r) => when(r.acceptedAt) },
        { key: 'resultDue', title: t.due, text: (r) => when(r.resultDueAt) },
      ]}
      fetchPage={(query, cursor) =>
        unwrap(api.GET('/api/complaints', { params: { query: listQuery<Query>(query, cursor) } }))
      }
    />
  );
}
