/**
 * What the case lists share: the query their filters send, and the columns
 * every case row has (title linking to the case, stage, status, owner, due,
 * opened), in the user's language and time zone.
 */
import { Flex, Tag } from 'antd';
import { PROCESS_STAGES } from '../api/processes';
import { useI18n } from '../i18n';
import type { ListColumn, ListFilter, ListQuery } from './KeysetList';

/** A case row as the list routes return it. */
export interface CaseRowLike {
  title: string;
  stage: string;
  status: string;
  ownerId: string | null;
  dueAt: string | null;
  overdue: boolean;
  createdAt: string;
}

/** The typed client's query for a list route, from the URL's strings (the selects offer only valid values). */
export function listQuery<Q>(query: ListQuery, cursor: string | undefined): Q {
  return { ...query, ...(cursor ? { cursor } : {}) } as Q;
}

export function useCaseFilters(process: string): ListFilter[] {
  const { t, stageLabel } = useI18n();
  return [
    {
      kind: 'select',
      key: 'stage',
      label: t.stage,
      options: (PROCESS_STAGES[process] ?? []).map((s) => ({ value: s, label: stageLabel(s, process) })),
    },
    {
      kind: 'select',
      key: 'status',
      label: t.status,
      options: [
        { value: 'open', label: t.open },
        { value: 'closed', label: t.closed },
      ],
    },
    { kind: 'checkbox', key: 'overdue', label: t.lists.overdueOnly },
    { kind: 'dateRange', label: t.lists.openedBetween },
  ];
}

export function useCaseColumns<Row extends CaseRowLike>(
  process?: string,
): {
  title: ListColumn<Row>;
  rest: Array<ListColumn<Row>>;
} {
  const { t, when, stageLabel } = useI18n();
  return {
    title: { key: 'title', title: t.title, text: (r) => r.title, linksToCase: true },
    rest: [
      {
        key: 'stage',
        title: t.stage,
        text: (r) => stageLabel(r.stage, process),
        render: (r) => <Tag>{stageLabel(r.stage, process)}</Tag>,
      },
      {
        key: 'status',
        title: t.status,
        text: (r) => (r.status === 'open' ? t.open : t.closed) + (r.overdue ? ` · ${t.overdue}` : ''),
        render: (r) => (
          <Flex gap={4}>
            <Tag color={r.status === 'open' ? 'blue' : 'default'}>{r.status === 'open' ? t.open : t.closed}</Tag>
            {r.overdue ? <Tag color="red">{t.overdue}</Tag> : null}
          </Flex>
        ),
      },
      { key: 'owner', title: t.owner, text: (r) => r.ownerId },
      { key: 'due', title: t.due, text: (r) => when(r.dueAt) },
      { key: 'opened', title: t.lists.opened, text: (r) => when(r.createdAt) },
    ],
  };
}
