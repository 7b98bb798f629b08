/**
 * Dashboards a manager would rather look at than read (issue 13 §5): every
 * chart from one call (GET /api/dashboards/overview), each element linking
 * to the filtered list behind it. Under each chart, its figures as a table
 * whose rows link to the same lists: what a screen reader or keyboard user
 * reads, and what prints.
 */
import { useQuery } from '@tanstack/react-query';
import { Card, Col, Flex, Row, Table, Typography } from 'antd';
import { useMemo, type ReactNode } from 'react';
import { Link, useNavigate } from 'react-router';
import { api, unwrap } from '../api/client';
import type { components } from '../api/schema';
import { CHART_TEXT, EChart, type ChartClick, type ChartOption } from '../charts/EChart';
import { useI18n } from '../i18n';
import { Refusal } from '../Refusal';

type Overview = components['schemas']['DashboardOverview'];

/** How often the dashboard asks again (policy default: a minute; nothing here changes by the second). */
const REFRESH_MS = 60_000;

/** A list screen with these filters in its URL (CasesPage and the lists of web/src/lists/ read them from there). */
export function listHref(path: string, filters: Record<string, string | undefined> = {}): string {
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(filters)) if (v) query.set(k, v);
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

/** The cases list with these filters. */
export const casesHref = (filters: Record<string, string | undefined>) => listHref('/cases', filters);

/** Cell tints by level, with dark text on each (contrast above 7:1). */
const LEVEL_COLOURS = { low: '#cfead3', medium: '#fde7a6', high: '#f6c4c4' } as const;
const GRADE_COLOURS = { low: '#15803d', medium: '#a16207', high: '#b7202e', ungraded: '#6b7280' } as const;

const humanise = (s: string) => s.replace(/_/g, ' ');

/**
 * The browser's IANA time zone, for the weeks of the complaint chart; none
 * (the API counts UTC weeks) when the browser names no zone the API takes.
 */
function browserTimeZone(): string | undefined {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  return zone && /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(zone) ? zone : undefined;
}

export function DashboardPage() {
  const { t } = useI18n();
  const tz = browserTimeZone();
  const overview = useQuery({
    queryKey: ['dashboard', tz],
    queryFn: () => unwrap(api.GET('/api/dashboards/overview', { params: { query: tz ? { tz } : {} } })),
    refetchInterval: REFRESH_MS,
  });
  const data = overview.data;
  return (
    <Flex vertical gap={16}>
      <Typography.Title level={1} style={{ fontSize: 24, margin: 0 }}>
        {t.dash.title}
      </Typography.Title>
      <Typography.Paragraph type="secondary" style={{ margin: 0 }}>
        {t.dash.intro}
      </Typography.Paragraph>
      {overview.error ? <Refusal error={overview.error} /> : null}
      {data ? (
        <Row gutter={[16, 16]}>
          <Col xs={24} xl={12}>
            <OpenCasesChart data={data} />
          </Col>
          <Col xs={24} xl={12}>
            <OverdueChart data={data} />
          </Col>
          <Col xs={24} xl={12}>
            <HeatMapChart data={data} />
          </Col>
          <Col xs={24} xl={12}>
            <SupplierChart data={data} />
          </Col>
          <Col xs={24} xl={12}>
            <ComplaintSlaChart data={data} />
          </Col>
          <Col xs={24} xl={12}>
            <IncidentChart data={data} />
          </Col>
          <Col xs={24} xl={12}>
            <DrillChart data={data} />
          </Col>
        </Row>
      ) : (
        <Card loading />
      )}
    </Flex>
  );
}

/** One chart: its card, the chart itself, a note on where it links, and its figures as a table. */
function ChartCard<Row extends object>({
  id,
  title,
  note,
  option,
  onClick,
  empty,
  rows,
  columns,
  rowKey,
  height,
}: {
  id: string;
  title: string;
  note?: string;
  option: ChartOption;
  onClick?: (event: ChartClick) => void;
  empty: boolean;
  rows: Row[];
  columns: Array<{ title: string; key: string; render: (row: Row) => ReactNode }>;
  rowKey: (row: Row) => string;
  height?: number;
}) {
  const { t } = useI18n();
  const headingId = `${id}-title`;
  return (
    <Card
      data-testid={id}
      role="region"
      aria-labelledby={headingId}
      title={
        <h2 id={headingId} style={{ fontSize: 16, margin: 0 }}>
          {title}
        </h2>
      }
    >
      {empty ? (
        <Typography.Text type="secondary">{t.nothing}</Typography.Text>
      ) : (
        <EChart
          testId={`${id}-chart`}
          label={`${title}. ${t.dash.chartHelp}`}
          option={option}
          onClick={onClick}
          height={height}
        />
      )}
      {note ? (
        <Typography.Paragraph type="secondary" style={{ fontSize: 12, margin: '8px 0 0' }}>
          {note}
        </Typography.Paragraph>
      ) : null}
      <details style={{ marginTop: 8 }}>
        <summary style={{ cursor: 'pointer' }}>{t.dash.showData}</summary>
        <Table<Row>
          data-testid={`${id}-table`}
          size="small"
          pagination={false}
          rowKey={rowKey}
          dataSource={rows}
          locale={{ emptyText: <Typography.Text type="secondary">{t.nothing}</Typography.Text> }}
          columns={columns.map((c) => ({
            title: c.title,
            key: c.key,
            render: (_: unknown, row: Row) => c.render(row),
          }))}
        />
      </details>
    </Card>
  );
}

const axisText = { color: CHART_TEXT };

function OpenCasesChart({ data }: { data: Overview }) {
  const { t, processLabel, stageLabel } = useI18n();
  const navigate = useNavigate();
  const rows = data.openCases;
  const label = (r: (typeof rows)[number]) => `${processLabel(r.process)} · ${stageLabel(r.stage, r.process)}`;
  const href = (r: (typeof rows)[number]) => casesHref({ process: r.process, stage: r.stage, status: 'open' });
  const option = useMemo<ChartOption>(
    () => ({
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
      grid: { left: 8, right: 24, top: 8, bottom: 8, containLabel: true },
      xAxis: { type: 'value', minInterval: 1, axisLabel: axisText },
      yAxis: {
        type: 'category',
        inverse: true,
        data: rows.map(label),
        axisLabel: { ...axisText, width: 220, overflow: 'truncate' },
      },
      series: [
        {
          type: 'bar',
          barMaxWidth: 32,
          name: t.dash.count,
          data: rows.map((r) => r.count),
          label: { show: true, position: 'right', color: CHART_TEXT },
        },
      ],
    }),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [rows, t],
  );
  return (
    <ChartCard
      id="chart-open-cases"
      title={t.dash.openCases}
      option={option}
      height={Math.max(220, rows.length * 28 + 40)}
      empty={rows.length === 0}
      onClick={(e) => rows[e.dataIndex] && navigate(href(rows[e.dataIndex]!))}
      rows={rows}
      rowKey={(r) => `${r.process}/${r.stage}`}
      columns={[
        { title: t.process, key: 'process', render: (r) => <Link to={href(r)}>{processLabel(r.process)}</Link> },
        { title: t.stage, key: 'stage', render: (r) => stageLabel(r.stage, r.process) },
        { title: t.dash.count, key: 'count', render: (r) => r.count },
      ]}
    />
  );
}

function OverdueChart({ data }: { data: Overview }) {
  const { t, when, roleList } = useI18n();
  const navigate = useNavigate();
  const rows = data.overdueByOwner;
  const who = (r: (typeof rows)[number]) =>
    r.assigneeId ? (r.assigneeName ?? r.assigneeId) : t.dash.roles(roleList(r.candidateRoles ?? []));
  // No list of overdue items yet: a person's open cases, or for role-pooled tasks the open cases past due.
  const href = (r: (typeof rows)[number]) =>
    r.assigneeId
      ? casesHref({ ownerId: r.assigneeId, status: 'open' })
      : casesHref({ status: 'open', overdue: 'true' });
  const option = useMemo<ChartOption>(
    () => ({
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
      grid: { left: 8, right: 24, top: 8, bottom: 8, containLabel: true },
      xAxis: { type: 'value', minInterval: 1, axisLabel: axisText },
      yAxis: {
        type: 'category',
        inverse: true,
        data: rows.map(who),
        axisLabel: { ...axisText, width: 200, overflow: 'truncate' },
      },
      series: [
        {
          type: 'bar',
          barMaxWidth: 32,
          name: t.dash.count,
          data: rows.map((r) => r.count),
          itemStyle: { color: '#b7202e' },
          label: { show: true, position: 'right', color: CHART_TEXT },
        },
      ],
    }),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [rows, t],
  );
  return (
    <ChartCard
      id="chart-overdue"
      title={t.dash.overdue}
      note={t.dash.overdueNote}
      option={option}
      height={Math.max(200, rows.length * 28 + 40)}
      empty={rows.length === 0}
      onClick={(e) => rows[e.dataIndex] && navigate(href(rows[e.dataIndex]!))}
      rows={rows}
      rowKey={(r) => r.assigneeId ?? `roles:${(r.candidateRoles ?? []).join(',')}`}
      columns={[
        { title: t.owner, key: 'owner', render: (r) => <Link to={href(r)}>{who(r)}</Link> },
        { title: t.dash.count, key: 'count', render: (r) => r.count },
        { title: t.dash.oldestDue, key: 'oldest', render: (r) => when(r.oldestDueAt) },
      ]}
    />
  );
}

function HeatMapChart({ data }: { data: Overview }) {
  const { t } = useI18n();
  const navigate = useNavigate();
  const cells = data.heatMap;
  const shown = cells.filter((c) => c.risks + c.cases > 0);
  // Risks have no list screen yet: a cell opens the open cases of its level.
  const href = (c: (typeof cells)[number]) => casesHref({ status: 'open', riskLevel: c.level });
  const option = useMemo<ChartOption>(
    () => ({
      tooltip: {
        formatter: (p) => {
          const c = cells[(p as { dataIndex: number }).dataIndex]!;
          return `${t.dash.probability} ${c.probability} × ${t.dash.impact} ${c.impact} (${t.dash.levels[c.level]})<br/>${t.dash.risks}: ${c.risks}<br/>${t.dash.casesRated}: ${c.cases}`;
        },
      },
      // Room on the left for the vertical axis name, which containLabel leaves out.
      grid: { left: 32, right: 8, top: 8, bottom: 24, containLabel: true },
      xAxis: {
        type: 'category',
        name: t.dash.impact,
        nameLocation: 'middle',
        nameGap: 24,
        nameTextStyle: axisText,
        data: ['1', '2', '3', '4', '5'],
        axisLabel: axisText,
        splitArea: { show: true },
      },
      yAxis: {
        type: 'category',
        name: t.dash.probability,
        nameLocation: 'middle',
        nameGap: 24,
        nameTextStyle: axisText,
        data: ['1', '2', '3', '4', '5'],
        axisLabel: axisText,
        splitArea: { show: true },
      },
      series: [
        {
          type: 'heatmap',
          name: t.dash.heatMap,
          data: cells.map((c) => ({
            value: [c.impact - 1, c.probability - 1, c.risks + c.cases],
            itemStyle: { color: LEVEL_COLOURS[c.level], borderColor: '#fff', borderWidth: 2 },
          })),
          label: {
            show: true,
            color: CHART_TEXT,
            formatter: (p) => {
              const c = cells[(p as { dataIndex: number }).dataIndex]!;
              return c.risks + c.cases ? `${t.dash.riskShort}${c.risks} ${t.dash.caseShort}${c.cases}` : '';
            },
          },
        },
      ],
    }),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [cells, t],
  );
  return (
    <ChartCard
      id="chart-heat-map"
      title={t.dash.heatMap}
      note={t.dash.heatMapNote}
      option={option}
      height={340}
      empty={false}
      onClick={(e) => cells[e.dataIndex] && navigate(href(cells[e.dataIndex]!))}
      rows={shown}
      rowKey={(c) => `${c.probability}x${c.impact}`}
      columns={[
        {
          title: `${t.dash.probability} × ${t.dash.impact}`,
          key: 'cell',
          render: (c) => <Link to={href(c)}>{`${c.probability} × ${c.impact}`}</Link>,
        },
        { title: t.dash.level, key: 'level', render: (c) => t.dash.levels[c.level] },
        { title: t.dash.risks, key: 'risks', render: (c) => c.risks },
        { title: t.dash.casesRated, key: 'cases', render: (c) => c.cases },
      ]}
    />
  );
}

function SupplierChart({ data }: { data: Overview }) {
  const { t } = useI18n();
  const navigate = useNavigate();
  const rows = data.supplierGrades;
  const tiers = [...new Set(rows.map((r) => r.tier))];
  const gradeList = ['low', 'medium', 'high', 'ungraded'] as const;
  // The supplier list filters by tier and grade; it has no "not yet graded" filter, so those open the tier.
  const href = (tier?: string, grade?: string) =>
    listHref('/suppliers', { tier, grade: grade === 'ungraded' ? undefined : grade });
  const tierLabel = (tier: string) => t.dash.tiers[tier] ?? humanise(tier);
  const option = useMemo<ChartOption>(
    () => ({
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
      legend: { bottom: 0, textStyle: axisText },
      grid: { left: 8, right: 16, top: 8, bottom: 32, containLabel: true },
      xAxis: { type: 'category', data: tiers.map(tierLabel), axisLabel: axisText },
      yAxis: { type: 'value', minInterval: 1, axisLabel: axisText },
      series: gradeList.map((grade) => ({
        type: 'bar' as const,
        barMaxWidth: 32,
        stack: 'grades',
        name: t.dash.grades[grade],
        itemStyle: { color: GRADE_COLOURS[grade] },
        data: tiers.map((tier) => rows.find((r) => r.tier === tier && r.grade === grade)?.count ?? 0),
      })),
    }),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [rows, t],
  );
  return (
    <ChartCard
      id="chart-suppliers"
      title={t.dash.suppliers}
      note={t.dash.suppliersNote}
      option={option}
      empty={rows.length === 0}
      onClick={(e) => navigate(href(tiers[e.dataIndex], gradeList[e.seriesIndex ?? -1]))}
      rows={rows}
      rowKey={(r) => `${r.tier}/${r.grade}`}
      columns={[
        { title: t.dash.tier, key: 'tier', render: (r) => <Link to={href(r.tier, r.grade)}>{tierLabel(r.tier)}</Link> },
        { title: t.dash.grade, key: 'grade', render: (r) => t.dash.grades[r.grade] },
        { title: t.dash.count, key: 'count', render: (r) => r.count },
      ]}
    />
  );
}

const percent = (x: number | null) => (x === null ? '—' : `${Math.round(x * 1000) / 10}%`);

function ComplaintSlaChart({ data }: { data: Overview }) {
  const { t } = useI18n();
  const navigate = useNavigate();
  const { weeks, initialInvestigationWithin, resultWithin } = data.complaintSla;
  const href = () => listHref('/complaints');
  const names = [t.dash.investigationWithin(initialInvestigationWithin), t.dash.resultWithin(resultWithin)] as const;
  const option = useMemo<ChartOption>(
    () => ({
      tooltip: { trigger: 'axis', valueFormatter: (v) => (v === null || v === undefined ? '—' : `${v}%`) },
      legend: { bottom: 0, textStyle: axisText },
      grid: { left: 8, right: 16, top: 16, bottom: 32, containLabel: true },
      xAxis: { type: 'category', data: weeks.map((w) => w.week), axisLabel: axisText },
      yAxis: { type: 'value', min: 0, max: 100, axisLabel: { ...axisText, formatter: '{value}%' } },
      series: (['initialInvestigation', 'result'] as const).map((sla, i) => ({
        type: 'bar' as const,
        barMaxWidth: 32,
        name: names[i],
        data: weeks.map((w) => (w[sla].compliance === null ? null : Math.round(w[sla].compliance! * 1000) / 10)),
        ...(i === 0
          ? {
              markLine: {
                silent: true,
                symbol: 'none',
                data: [{ yAxis: 100 }],
                label: { show: false },
                lineStyle: { color: '#4b5563' },
              },
            }
          : {}),
      })),
    }),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [weeks, t],
  );
  return (
    <ChartCard
      id="chart-complaint-sla"
      title={t.dash.complaintSla}
      note={t.dash.complaintNote(data.complaintSla.timeZone)}
      option={option}
      empty={weeks.length === 0}
      onClick={() => navigate(href())}
      rows={weeks}
      rowKey={(w) => w.week}
      columns={[
        { title: t.dash.week, key: 'week', render: (w) => <Link to={href()}>{w.week}</Link> },
        { title: t.dash.complaints, key: 'n', render: (w) => w.complaints },
        {
          title: names[0],
          key: 'inv',
          render: (w) => `${percent(w.initialInvestigation.compliance)} (${t.dash.slaCounts(w.initialInvestigation)})`,
        },
        {
          title: names[1],
          key: 'res',
          render: (w) => `${percent(w.result.compliance)} (${t.dash.slaCounts(w.result)})`,
        },
      ]}
    />
  );
}

function IncidentChart({ data }: { data: Overview }) {
  const { t } = useI18n();
  const navigate = useNavigate();
  const rows = data.incidentsByGrade;
  const statuses = ['open', 'closed'] as const;
  const href = (grade: string, status?: 'open' | 'closed') => listHref('/incidents', { grade, status });
  const option = useMemo<ChartOption>(
    () => ({
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
      legend: { bottom: 0, textStyle: axisText },
      grid: { left: 8, right: 16, top: 8, bottom: 32, containLabel: true },
      xAxis: { type: 'category', data: rows.map((r) => t.dash.incidentGrade(r.grade)), axisLabel: axisText },
      yAxis: { type: 'value', minInterval: 1, axisLabel: axisText },
      series: statuses.map((status) => ({
        type: 'bar' as const,
        barMaxWidth: 32,
        stack: 'status',
        name: status === 'open' ? t.open : t.closed,
        itemStyle: { color: status === 'open' ? '#b7202e' : '#6b7280' },
        data: rows.map((r) => r[status]),
      })),
    }),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [rows, t],
  );
  return (
    <ChartCard
      id="chart-incidents"
      title={t.dash.incidents}
      option={option}
      empty={false}
      onClick={(e) => rows[e.dataIndex] && navigate(href(rows[e.dataIndex]!.grade, statuses[e.seriesIndex ?? 0]))}
      rows={rows}
      rowKey={(r) => r.grade}
      columns={[
        { title: t.dash.grade, key: 'grade', render: (r) => t.dash.incidentGrade(r.grade) },
        { title: t.open, key: 'open', render: (r) => <Link to={href(r.grade, 'open')}>{r.open}</Link> },
        { title: t.closed, key: 'closed', render: (r) => <Link to={href(r.grade, 'closed')}>{r.closed}</Link> },
      ]}
    />
  );
}

function DrillChart({ data }: { data: Overview }) {
  const { t } = useI18n();
  const navigate = useNavigate();
  const rows = data.drills.modules;
  const href = () => listHref('/drills');
  const option = useMemo<ChartOption>(
    () => ({
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
      legend: { bottom: 0, textStyle: axisText },
      grid: { left: 8, right: 16, top: 16, bottom: 32, containLabel: true },
      xAxis: {
        type: 'category',
        data: rows.map((r) => t.dash.modules[r.module] ?? r.module),
        axisLabel: { ...axisText, interval: 0 },
      },
      yAxis: { type: 'value', min: 0, max: 100, axisLabel: axisText },
      series: [
        {
          type: 'bar',
          barMaxWidth: 32,
          name: t.dash.average,
          data: rows.map((r) => ({
            value: r.average,
            itemStyle: { color: r.average !== null && r.average < r.passMark ? '#b7202e' : '#0a4fb5' },
          })),
          label: { show: true, position: 'top', color: CHART_TEXT },
        },
        {
          type: 'line',
          name: t.dash.passMark,
          data: rows.map((r) => r.passMark),
          itemStyle: { color: '#a16207' },
          lineStyle: { type: 'dashed', color: '#a16207' },
          symbol: 'diamond',
          symbolSize: 10,
        },
      ],
    }),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [rows, t],
  );
  return (
    <ChartCard
      id="chart-drills"
      title={t.dash.drills}
      note={t.dash.drillsNote(data.drills.overallPassMark)}
      option={option}
      empty={rows.every((r) => r.drills === 0)}
      onClick={() => navigate(href())}
      rows={rows}
      rowKey={(r) => r.module}
      columns={[
        { title: t.dash.module, key: 'module', render: (r) => <Link to={href()}>{t.dash.modules[r.module]}</Link> },
        { title: t.dash.average, key: 'avg', render: (r) => r.average ?? '—' },
        { title: t.dash.passMark, key: 'mark', render: (r) => r.passMark },
        { title: t.dash.drillCount, key: 'n', render: (r) => r.drills },
        { title: t.dash.belowPassMark, key: 'below', render: (r) => r.belowPassMark },
      ]}
    />
  );
}
