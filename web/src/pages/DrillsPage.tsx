import { Tabs, Tag } from 'antd';
import { useState } from 'react';
import { useSearchParams } from 'react-router';
import { api, unwrap } from '../api/client';
import type { components, paths } from '../api/schema';
import { useI18n } from '../i18n';
import { listQuery, useCaseColumns, useCaseFilters } from '../lists/common';
import { KeysetList, type ListPage } from '../lists/KeysetList';

type Drill = components['schemas']['DrillSummary'];
type DrillQuery = NonNullable<paths['/api/drills']['get']['parameters']['query']>;
type PlanQuery = NonNullable<paths['/api/emergency-plans']['get']['parameters']['query']>;
const PLAN_STATUSES = ['draft', 'active', 'retired'] as const satisfies ReadonlyArray<NonNullable<PlanQuery['status']>>;

/** A plan in the register, as GET /api/emergency-plans returns it. */
interface Plan {
  id: string;
  title: string;
  type: string;
  ownerId: string;
  status: string;
  currentVersion: number | null;
  lastApprovedAt: string | null;
  revisionDueAt: string | null;
}

/** Plans and drills (应急预案与演练): the drill and revision cases, and the plan register. */
export function DrillsPage() {
  const { t, when } = useI18n();
  const [, setParams] = useSearchParams();
  const [tab, setTab] = useState<'drills' | 'plans'>('drills');
  const cols = useCaseColumns<Drill>();
  const caseFilters = useCaseFilters('drill');
  const kindLabel = (p: string) => (p === 'drill' ? t.lists.drill : t.lists.planRevision);
  return (
    <Tabs
      activeKey={tab}
      onChange={(key) => {
        // Each list keeps its filters in the URL: a tab starts unfiltered.
        setParams(new URLSearchParams());
        setTab(key as 'drills' | 'plans');
      }}
      items={[
        {
          key: 'drills',
          label: t.lists.drillCases,
          children: (
            <KeysetList<Drill>
              id="drills"
              title={t.lists.drills}
              searchLabel={t.lists.searchTitle}
              rowKey={(r) => r.id}
              caseId={(r) => r.id}
              filters={[
                {
                  kind: 'select',
                  key: 'process',
                  label: t.lists.kind,
                  options: ['drill', 'plan_revision'].map((p) => ({ value: p, label: kindLabel(p) })),
                },
                ...caseFilters,
              ]}
              columns={[
                cols.title,
                { key: 'kind', title: t.lists.kind, text: (r) => kindLabel(r.process) },
                { key: 'plan', title: t.lists.planId, text: (r) => r.planId },
                { key: 'year', title: t.lists.year, text: (r) => r.year },
                {
                  key: 'score',
                  title: t.lists.score,
                  text: (r) => r.overall,
                  render: (r) =>
                    r.overall === null ? (
                      '—'
                    ) : (
                      <Tag color={r.passed ? 'blue' : 'red'}>
                        {r.overall} {r.passed ? t.lists.passed : t.lists.failed}
                      </Tag>
                    ),
                },
                ...cols.rest,
              ]}
              fetchPage={(query, cursor) =>
                unwrap(api.GET('/api/drills', { params: { query: listQuery<DrillQuery>(query, cursor) } }))
              }
            />
          ),
        },
        {
          key: 'plans',
          label: t.lists.plans,
          children: (
            <KeysetList<Plan>
              id="plans"
              title={t.lists.plans}
              searchLabel={t.lists.searchPlans}
              rowKey={(r) => r.id}
              filters={[
                {
                  kind: 'select',
                  key: 'status',
                  label: t.status,
                  options: PLAN_STATUSES.map((s) => ({ value: s, label: s })),
                },
                { kind: 'checkbox', key: 'overdue', label: t.lists.overdueOnly },
              ]}
              columns={[
                { key: 'id', title: t.lists.planId, text: (r) => r.id },
                { key: 'title', title: t.title, text: (r) => r.title },
                { key: 'type', title: t.lists.planType, text: (r) => r.type.replace(/_/g, ' ') },
                { key: 'status', title: t.status, text: (r) => r.status },
                { key: 'version', title: t.lists.version, text: (r) => r.currentVersion },
                { key: 'owner', title: t.owner, text: (r) => r.ownerId },
                { key: 'revisionDue', title: t.lists.revisionDue, text: (r) => when(r.revisionDueAt) },
              ]}
              fetchPage={async (query, cursor) =>
                (await unwrap(
                  api.GET('/api/emergency-plans', { params: { query: listQuery<PlanQuery>(query, cursor) } }),
                )) as unknown as ListPage<Plan>
              }
            />
          ),
        },
      ]}
    />
  );
}
