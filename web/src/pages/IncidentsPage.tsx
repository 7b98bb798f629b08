import { Tag } from 'antd';
import { api, unwrap } from '../api/client';
import { CHOICES } from '../api/processes';
import type { components, paths } from '../api/schema';
import { useI18n } from '../i18n';
import { listQuery, useCaseColumns, useCaseFilters } from '../lists/common';
import { KeysetList } from '../lists/KeysetList';

type Incident = components['schemas']['IncidentSummary'];
type Query = NonNullable<paths['/api/incidents']['get']['parameters']['query']>;
const GRADES = CHOICES.incidentGrades satisfies ReadonlyArray<NonNullable<Query['grade']>>;
const CATEGORIES = CHOICES.incidentCategories satisfies ReadonlyArray<NonNullable<Query['category']>>;

/** Incidents (突发事件), newest first. */
export function IncidentsPage() {
  const { t, when } = useI18n();
  const cols = useCaseColumns<Incident>();
  const grade = (g: string | null) => (g ? t.dash.incidentGrade(g) : null);
  return (
    <KeysetList<Incident>
      id="incidents"
      title={t.lists.incidents}
      searchLabel={t.lists.searchTitle}
      linkFilters={[{ key: 'ownerId', label: t.caseFilters.ownerIs }]}
      rowKey={(r) => r.id}
      caseId={(r) => r.id}
      filters={[
        {
          kind: 'select',
          key: 'grade',
          label: t.lists.incidentGrade,
          options: GRADES.map((g) => ({ value: g, label: t.dash.incidentGrade(g) })),
        },
        {
          kind: 'select',
          key: 'category',
          label: t.lists.incidentCategory,
          options: CATEGORIES.map((c) => ({ value: c, label: c.replace(/_/g, ' ') })),
        },
        ...useCaseFilters('incident'),
      ]}
      columns={[
        { key: 'incidentId', title: t.case, text: (r) => r.incidentId },
        cols.title,
        {
          key: 'grade',
          title: t.lists.incidentGrade,
          text: (r) => grade(r.grade),
          render: (r) =>
            r.grade ? <Tag color={r.grade === 'I' || r.grade === 'II' ? 'red' : 'default'}>{grade(r.grade)}</Tag> : '—',
        },
        { key: 'category', title: t.lists.incidentCategory, text: (r) => r.category?.replace(/_/g, ' ') ?? null },
        { key: 'system', title: t.lists.system, text: (r) => r.system },
        { key: 'occurredAt', title: t.lists.occurredAt, text: (r) => when(r.occurredAt) },
        ...cols.rest,
      ]}
      fetchPage={(query, cursor) =>
        unwrap(api.GET('/api/incidents', { params: { query: listQuery<Query>(query, cursor) } }))
      }
    />
  );
}
