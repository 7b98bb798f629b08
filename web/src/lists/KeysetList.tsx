/**
 * One list screen (issue 13 §4): filters and a search box kept in the URL (a
 * bookmark, a shared link or a dashboard chart opens the same list), rows
 * fetched page by page with the API's opaque cursor ("load more" appends the
 * next page), rows linking to their case, and CSV and XLSX export of exactly
 * the rows and columns shown.
 */
import { useInfiniteQuery } from '@tanstack/react-query';
import { Button, Card, Checkbox, DatePicker, Flex, Input, Select, Space, Table, Tag, Typography } from 'antd';
import dayjs, { type Dayjs } from 'dayjs';
import { useState, type ReactNode } from 'react';
import { Link, useSearchParams } from 'react-router';
import { useI18n } from '../i18n';
import { Refusal } from '../Refusal';
import { downloadCsv, downloadXlsx, type ExportTable, type ExportValue } from './exportRows';

/** Rows per page: the API's default. */
export const LIST_PAGE_SIZE = 50;

export interface ListColumn<Row> {
  key: string;
  title: string;
  /** The text shown and exported. */
  text: (row: Row) => ExportValue;
  /** What the cell shows, when more than its text (a tag, a link). */
  render?: (row: Row) => ReactNode;
  /** This column links to the row's case. */
  linksToCase?: boolean;
}

export type ListFilter =
  | { kind: 'select'; key: string; label: string; options: Array<{ value: string; label: string }> }
  | { kind: 'checkbox'; key: string; label: string }
  /** Sets `from` and `to`: whole days in the user's time zone. */
  | { kind: 'dateRange'; label: string };

export interface ListPage<Row> {
  items: Row[];
  nextCursor: string | null;
  total: number;
  /** The total is a cap, not the count (GET /api/cases…: a reader with many cases). */
  totalCapped?: boolean;
}

export type ListQuery = Record<string, string | number | undefined>;

export interface KeysetListProps<Row> {
  /** Names the list: test ids, the query cache, the export's file name. */
  id: string;
  title: string;
  filters: ListFilter[];
  columns: Array<ListColumn<Row>>;
  rowKey: (row: Row) => string;
  /** The case a row belongs to, for its link. */
  caseId?: (row: Row) => string | null;
  searchLabel: string;
  /** Filters set only by a link (a dashboard chart's ?ownerId=…): shown as a tag that clears it. */
  linkFilters?: Array<{ key: string; label: (value: string) => string }>;
  fetchPage: (query: ListQuery, cursor: string | undefined) => Promise<ListPage<Row>>;
}

const FILTER_PARAMS = (filters: ListFilter[]) =>
  filters.flatMap((f) => (f.kind === 'dateRange' ? ['from', 'to'] : [f.key]));

export function KeysetList<Row extends object>(props: KeysetListProps<Row>) {
  const { t, lang } = useI18n();
  const [params, setParams] = useSearchParams();
  const keys = [...FILTER_PARAMS(props.filters), ...(props.linkFilters ?? []).map((f) => f.key), 'q'];
  const query: ListQuery = Object.fromEntries(keys.map((k) => [k, params.get(k) || undefined]));
  const [search, setSearch] = useState(params.get('q') ?? '');
  const set = (changes: Record<string, string | undefined>) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(changes)) v ? next.set(k, v) : next.delete(k);
    setParams(next);
  };
  const list = useInfiniteQuery({
    queryKey: ['list', props.id, query],
    queryFn: ({ pageParam }) => props.fetchPage({ ...query, limit: LIST_PAGE_SIZE }, pageParam),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
  const rows = list.data?.pages.flatMap((p) => p.items) ?? [];
  const total = list.data?.pages[0]?.total ?? 0;
  // Lists count up to a cap (totalCapped): "1,000+".
  const totalText = list.data?.pages[0]?.totalCapped ? `${total.toLocaleString()}+` : total.toLocaleString();
  const filtered = keys.some((k) => params.get(k));

  const table = (): ExportTable => ({
    headers: props.columns.map((c) => c.title),
    rows: rows.map((row) => props.columns.map((c) => c.text(row))),
  });
  const fileName = `${props.id}-${dayjs().format('YYYYMMDD-HHmm')}`;
  const range = (): [Dayjs, Dayjs] | null =>
    query.from && query.to ? [dayjs(String(query.from)), dayjs(String(query.to)).subtract(1, 'day')] : null;

  return (
    <Flex vertical gap={16}>
      <Typography.Title level={1} style={{ fontSize: 24, margin: 0 }}>
        {props.title}
      </Typography.Title>
      <Flex gap={12} wrap align="center" data-testid={`${props.id}-filters`}>
        <Input.Search
          aria-label={props.searchLabel}
          placeholder={props.searchLabel}
          allowClear
          style={{ width: 280 }}
          value={search}
          onChange={(e) => setSearch(e.target.value)}
          onSearch={(v) => set({ q: v.trim() || undefined })}
          data-testid={`${props.id}-search`}
        />
        {props.filters.map((f) =>
          f.kind === 'select' ? (
            <Select
              key={f.key}
              aria-label={f.label}
              style={{ minWidth: 170 }}
              allowClear
              placeholder={f.label}
              value={(query[f.key] as string | undefined) ?? undefined}
              onChange={(v?: string) => set({ [f.key]: v })}
              options={f.options}
              data-testid={`${props.id}-filter-${f.key}`}
            />
          ) : f.kind === 'checkbox' ? (
            <Checkbox
              key={f.key}
              checked={query[f.key] === 'true'}
              onChange={(e) => set({ [f.key]: e.target.checked ? 'true' : undefined })}
              data-testid={`${props.id}-filter-${f.key}`}
            >
              {f.label}
            </Checkbox>
          ) : (
            <DatePicker.RangePicker
              key="dateRange"
              aria-label={f.label}
              placeholder={[f.label, f.label]}
              value={range()}
              onChange={(days) =>
                set(
                  days?.[0] && days[1]
                    ? {
                        // Whole days in the user's time zone, as instants for the API.
                        from: days[0].startOf('day').toISOString(),
                        to: days[1].add(1, 'day').startOf('day').toISOString(),
                      }
                    : { from: undefined, to: undefined },
                )
              }
            />
          ),
        )}
        {(props.linkFilters ?? []).map((f) =>
          query[f.key] ? (
            <Tag
              key={f.key}
              closable
              onClose={() => set({ [f.key]: undefined })}
              data-testid={`${props.id}-filter-${f.key}`}
            >
              {f.label(String(query[f.key]))}
            </Tag>
          ) : null,
        )}
        {filtered ? (
          <Button
            onClick={() => {
              setSearch('');
              setParams(new URLSearchParams());
            }}
          >
            {t.lists.clear}
          </Button>
        ) : null}
      </Flex>
      {list.error ? <Refusal error={list.error} /> : null}
      <Card>
        <Flex justify="space-between" align="center" wrap gap={12} style={{ marginBottom: 12 }}>
          <Typography.Text data-testid={`${props.id}-shown`}>{t.lists.shown(rows.length, totalText)}</Typography.Text>
          <Space>
            <Button disabled={!rows.length} onClick={() => downloadCsv(table(), fileName)} data-testid="export-csv">
              {t.lists.exportCsv}
            </Button>
            <Button
              disabled={!rows.length}
              onClick={() => void downloadXlsx(table(), fileName)}
              data-testid="export-xlsx"
            >
              {t.lists.exportXlsx}
            </Button>
          </Space>
        </Flex>
        <Table<Row>
          key={lang}
          rowKey={props.rowKey}
          size="middle"
          data-testid={`${props.id}-table`}
          loading={list.isFetching && !list.isFetchingNextPage}
          dataSource={rows}
          pagination={false}
          scroll={{ x: 'max-content' }}
          locale={{ emptyText: <Typography.Text type="secondary">{t.nothing}</Typography.Text> }}
          columns={props.columns.map((c) => ({
            title: c.title,
            key: c.key,
            render: (_: unknown, row: Row) => {
              const shown = c.render ? c.render(row) : (c.text(row) ?? '—');
              const caseId = c.linksToCase ? props.caseId?.(row) : null;
              return caseId ? <Link to={`/cases/${encodeURIComponent(caseId)}`}>{shown}</Link> : shown;
            },
          }))}
        />
        {list.hasNextPage ? (
          <Flex justify="center" style={{ marginTop: 12 }}>
            <Button
              onClick={() => void list.fetchNextPage()}
              loading={list.isFetchingNextPage}
              data-testid={`${props.id}-more`}
            >
              {t.lists.loadMore}
            </Button>
          </Flex>
        ) : null}
      </Card>
    </Flex>
  );
}
