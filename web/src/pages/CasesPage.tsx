import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { Card, Flex, Select, Table, Tag, Typography } from 'antd';
import { Link, useSearchParams } from 'react-router';
import { api, unwrap, type Case } from '../api/client';
import { PROCESS_STAGES } from '../api/processes';
import { useI18n } from '../i18n';
import { Refusal } from '../Refusal';

const PAGE_SIZE = 20;

export function CasesPage() {
  const { t, when, processLabel } = useI18n();
  const [params, setParams] = useSearchParams();
  const process = params.get('process') ?? undefined;
  const status = (params.get('status') as 'open' | 'closed' | null) ?? undefined;
  const page = Math.max(1, Number(params.get('page') ?? '1') || 1);
  const set = (changes: Record<string, string | undefined>) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(changes)) v ? next.set(k, v) : next.delete(k);
    setParams(next);
  };
  const list = useQuery({
    queryKey: ['cases', process, status, page],
    queryFn: () => unwrap(api.GET('/api/cases', { params: { query: { process, status, page, pageSize: PAGE_SIZE } } })),
    placeholderData: keepPreviousData,
  });
  return (
    <Flex vertical gap={16}>
      <Typography.Title level={1} style={{ fontSize: 24, margin: 0 }}>
        {t.cases}
      </Typography.Title>
      <Flex gap={12} wrap>
        <Select
          aria-label={t.process}
          style={{ minWidth: 240 }}
          allowClear
          placeholder={t.allProcesses}
          value={process}
          onChange={(v?: string) => set({ process: v, page: undefined })}
          options={Object.keys(PROCESS_STAGES).map((p) => ({ value: p, label: processLabel(p) }))}
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
      </Flex>
      {list.error ? <Refusal error={list.error} /> : null}
      <Card>
        <Table<Case>
          rowKey="id"
          size="middle"
          loading={list.isFetching}
          dataSource={list.data?.items ?? []}
          locale={{ emptyText: <Typography.Text type="secondary">{t.nothing}</Typography.Text> }}
          pagination={{
            current: page,
            pageSize: PAGE_SIZE,
            total: list.data?.total ?? 0,
            showSizeChanger: false,
            showTotal: (n) => t.total(n),
            onChange: (p) => set({ page: p === 1 ? undefined : String(p) }),
          }}
          columns={[
            {
              title: t.title,
              key: 'title',
              render: (_, c) => <Link to={`/cases/${encodeURIComponent(c.id)}`}>{c.title}</Link>,
            },
            { title: t.process, dataIndex: 'process', key: 'process', render: (p: string) => processLabel(p) },
            { title: t.stage, dataIndex: 'stage', key: 'stage', render: (s: string) => <Tag>{s}</Tag> },
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
