import { api, unwrap } from '../api/client';
import type { components, paths } from '../api/schema';
import { useI18n } from '../i18n';
import { listQuery, useCaseColumns, useCaseFilters } from '../lists/common';
import { KeysetList } from '../lists/KeysetList';

type Cycle = components['schemas']['ImprovementCycleSummary'];
type Query = NonNullable<paths['/api/improvement-cycles']['get']['parameters']['query']>;
const SOURCES = [
  'audit_finding',
  'incident_review',
  'drill_finding',
  'supplier_appraisal',
  'kpi_gap',
] as const satisfies ReadonlyArray<NonNullable<Query['source']>>;

/** PDCA improvement cycles (持续改进), newest first. */
export function CyclesPage() {
  const { t } = useI18n();
  const cols = useCaseColumns<Cycle>();
  return (
    <KeysetList<Cycle>
      id="cycles"
      title={t.lists.cycles}
      searchLabel={t.lists.searchTitle}
      linkFilters={[{ key: 'ownerId', label: t.caseFilters.ownerIs }]}
      rowKey={(r) => r.id}
      caseId={(r) => r.id}
      filters={[
        {
          kind: 'select',
          key: 'source',
          label: t.lists.source,
          options: SOURCES.map((s) => ({ value: s, label: s.replace(/_/g, ' ') })),
        },
        ...useCaseFilters('pdca'),
      ]}
      columns={[
        { key: 'cycleKey', title: t.case, text: (r) => r.cycleKey },
        cols.title,
        { key: 'source', title: t.lists.source, text: (r) => r.source?.replace(/_/g, ' ') ?? null },
        { key: 'cycle', title: t.lists.cycle, text: (r) => r.cycle },
        ...cols.rest,
      ]}
      fetchPage={(query, cursor) =>
        unwrap(api.GET('/api/improvement-cycles', { params: { query: listQuery<Query>(query, cursor) } }))
      }
    />
  );
}
