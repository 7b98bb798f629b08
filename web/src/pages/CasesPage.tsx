import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { Button, Card, Checkbox, Flex, Select, Table, Tag, Typography } from 'antd';
import { Link, useSearchParams } from 'react-router';
import { api, unwrap, type Case } from '../api/client';
import { PROCESS_STAGES } from '../api/processes';
import { useI18n } from '../i18n';
import { Refusal } from '../Refusal';

const PAGE_SIZE = 20;
const RISK_LEVELS = ['low', 'medium', 'high'] as const;
type RiskLevel = (typeof RISK_LEVELS)[number];

/**
 * The filters live in the URL (?process=…&stage=…&status=…&ownerId=…&riskLevel=…&overdue=true&page=…),
 * so a dashboard chart, a bookmark or a shared link opens the same list. Values the API would refuse
 * (an unknown risk level, overdue other than true/false) are dropped rather than shown as an error.
 */
export function CasesPage() {
  const { t, when, processLabel, stageLabel } = useI18n();
  const [params, setParams] = useSearchParams();
  const process = params.get('process') || undefined;
  const stage = params.get('stage') || undefined;
  const statusParam = params.get('status');
  const status = statusParam === 'open' || statusParam === 'closed' ? statusParam : undefined;
  const ownerId = params.get('ownerId') || undefined;
  const riskParam = params.get('riskLevel');
  const riskLevel = (RISK_LEVELS as readonly string[]).includes(riskParam ?? '') ? (riskParam as RiskLevel) : undefined;
  const overdueParam = params.get('overdue');
  const overdue = overdueParam === 'true' || overdueParam === 'false' ? overdueParam : undefined;
  const page = Math.max(1, Number(params.get('page') ?? '1') || 1);
  const set = (changes: Record<string, string | undefined>) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(changes)) v ? next.set(k, v) : next.delete(k);
    setParams(next);
  };
  const stages = process ? (PROCESS_STAGES[process] ?? []) : [];
  const filtered = !!(process || stage || status || ownerId || riskLevel || overdue !== undefined);
  const list = useQuery({
    queryKey: ['cases', process, stage, status, ownerId, riskLevel, overdue, page],
    queryFn: () =>
      unwrap(
        api.GET('/api/cases', {
          params: {
            query: { process, stage, status, ownerId, riskLevel, overdue, page, pageSize: PAGE_SIZE },
          },
        }),
      ),
    placeholderData: keepPreviousData,
  });
  const levelLabel = (level: string) => t.dash.levels[level] ?? level;
  return (
    <Flex vertical gap={16}>
      <Typography.Title level={1} style={{ fontSize: 24, margin: 0 }}>
        {t.cases}
      </Typography.Title>
      <Flex gap={12} wrap align="center" data-testid="case-filters">
        <Select
          aria-label={t.process}
          style={{ minWidth: 240 }}
          allowClear
          placeholder={t.allProcesses}
          value={process}
          // A stage belongs to its process: changing the process clears it.
          onChange={(v?: string) => set({ process: v, stage: undefined, page: undefined })}
          options={Object.keys(PROCESS_STAGES).map((p) => ({ value: p, label: processLabel(p) }))}
        />
        <Select
          aria-label={t.stage}
          style={{ minWidth: 200 }}
          allowClear
          disabled={!process && !stage}
          placeholder={t.caseFilters.allStages}
          value={stage}
          onChange={(v?: string) => set({ stage: v, page: undefined })}
          options={(stage && !stages.includes(stage) ? [...stages, stage] : stages).map((s) => ({
            value: s,
            label: stageLabel(s, process),
          }))}
        />
        <Select
          aria-label={t.status}
          style={{ minWidth: 160 }}
          allowClear
          placeholder={t.allStatuses}
          value={status}
          onChange={(v?: string) => set({ status: v, page: undefined })}
          options={[
            { value: 'open', label: t.open },
            { value: 'closed', label: t.closed },
          ]}
        />
        <Select
          aria-label={t.riskLevel}
          style={{ minWidth: 160 }}
          allowClear
          placeholder={t.riskLevel}
          value={riskLevel}
          onChange={(v?: string) => set({ riskLevel: v, page: undefined })}
          options={RISK_LEVELS.map((l) => ({ value: l, label: levelLabel(l) }))}
        />
        <Checkbox
          checked={overdue === 'true'}
          onChange={(e) => set({ overdue: e.target.checked ? 'true' : undefined, page: undefined })}
        >
          {t.caseFilters.overdueOnly}
        </Checkbox>
        {ownerId ? (
          <Tag closable onClose={() => set({ ownerId: undefined, page: undefined })} data-testid="filter-owner">
            {t.caseFilters.ownerIs(ownerId)}
          </Tag>
        ) : null}
        {filtered ? <Button onClick={() => setParams(new URLSearchParams())}>{t.caseFilters.clear}</Button> : null}
      </Flex>
      {list.error ? <Refusal error={list.error} /> : null}
      <Card>
        <Table<Case>
          rowKey="id"
          size="middle"
          data-testid="cases-table"
          loading={list.isFetching}
          dataSource={list.data?.items ?? []}
          locale={{ emptyText: <Typography.Text type="secondary">{t.nothing}</Typography.Text> }}
          pagination={{
            current: page,
            pageSize: PAGE_SIZE,
            // Capped (totalCapped): one page more than the cap lets the pager go on while there is more.
            total: (list.data?.total ?? 0) + (list.data?.totalCapped ? PAGE_SIZE : 0),
            showSizeChanger: false,
            showTotal: () => (
              <span data-testid="cases-total">
                {t.total(list.data?.totalCapped ? `${list.data.total.toLocaleString()}+` : (list.data?.total ?? 0))}
              </span>
            ),
            onChange: (p) => set({ page: p === 1 ? undefined : String(p) }),
          }}
          columns={[
            {
              title: t.title,
              key: 'title',
              render: (_, c) => <Link to={`/cases/${encodeURIComponent(c.id)}`}>{c.title}</Link>,
            },
            { title: t.process, dataIndex: 'process', key: 'process', render: (p: string) => processLabel(p) },
            { title: t.stage, key: 'stage', render: (_, c) => <Tag>{stageLabel(c.stage, c.process)}</Tag> },
            {
              title: t.riskLevel,
              dataIndex: 'riskLevel',
              key: 'riskLevel',
              render: (l: string | null) => (l ? levelLabel(l) : '—'),
            },
            {
              title: t.status,
              key: 'status',
              render: (_, c) => (
                <Flex gap={4}>
                  <Tag color={c.status === 'open' ? 'blue' : 'default'}>{c.status === 'open' ? t.open : t.closed}</Tag>
                  {c.overdue && <Tag color="red">{t.overdue}</Tag>}
                </Flex>
              ),
            },
            { title: t.due, dataIndex: 'dueAt', key: 'due', render: (d: string | null) => when(d) },
            { title: t.created, dataIndex: 'createdAt', key: 'created', render: (d: string) => when(d) },
          ]}
        />
      </Card>
    </Flex>
  );
}
