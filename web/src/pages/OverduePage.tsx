import { Tag } from 'antd';
import { Link } from 'react-router';
import { api, unwrap } from '../api/client';
import { PROCESS_STAGES } from '../api/processes';
import type { components, paths } from '../api/schema';
import { useI18n } from '../i18n';
import { listQuery } from '../lists/common';
import { KeysetList } from '../lists/KeysetList';

type OverdueItem = components['schemas']['OverdueItem'];
type Query = NonNullable<paths['/api/tasks/overdue']['get']['parameters']['query']>;
const KINDS = ['approval', 'rectification', 'step'] as const satisfies ReadonlyArray<NonNullable<Query['kind']>>;

/** Overdue items: open tasks past their due date, most overdue first. */
export function OverduePage() {
  const { t, when, processLabel, roleList } = useI18n();
  const kind = (k: string) => t.lists.taskKinds[k] ?? k;
  return (
    <KeysetList<OverdueItem>
      id="overdue"
      title={t.lists.overdueItems}
      searchLabel={t.lists.searchOverdue}
      linkFilters={[{ key: 'assigneeId', label: t.caseFilters.ownerIs }]}
      rowKey={(r) => r.id}
      caseId={(r) => r.caseId}
      filters={[
        {
          kind: 'select',
          key: 'kind',
          label: t.lists.taskKind,
          options: KINDS.map((k) => ({ value: k, label: kind(k) })),
        },
        {
          kind: 'select',
          key: 'process',
          label: t.process,
          options: Object.keys(PROCESS_STAGES).map((p) => ({ value: p, label: processLabel(p) })),
        },
        { kind: 'dateRange', label: t.lists.dueBetween },
      ]}
      columns={[
        {
          key: 'task',
          title: t.tasks,
          text: (r) => r.title,
          render: (r) => <Link to={`/tasks/${encodeURIComponent(r.id)}`}>{r.title}</Link>,
        },
        { key: 'kind', title: t.lists.taskKind, text: (r) => kind(r.kind) },
        { key: 'case', title: t.case, text: (r) => r.caseTitle, linksToCase: true },
        { key: 'process', title: t.process, text: (r) => processLabel(r.process) },
        { key: 'assignee', title: t.assignee, text: (r) => r.assigneeId ?? roleList(r.candidateRoles) },
        { key: 'due', title: t.due, text: (r) => when(r.dueAt) },
        {
          key: 'daysOverdue',
          title: t.lists.daysOverdue,
          text: (r) => r.daysOverdue,
          render: (r) => <Tag color="red">{r.daysOverdue}</Tag>,
        },
      ]}
      fetchPage={(query, cursor) =>
        unwrap(api.GET('/api/tasks/overdue', { params: { query: listQuery<Query>(query, cursor) } }))
      }
    />
  );
}
