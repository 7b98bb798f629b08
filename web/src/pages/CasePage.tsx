import { useQuery } from '@tanstack/react-query';
import { Card, Descriptions, Flex, Steps, Table, Tag, Timeline, Typography } from 'antd';
import { Link, useParams } from 'react-router';
import { api, unwrap, type Case, type Evidence, type Task } from '../api/client';
import { PROCESS_STAGES } from '../api/processes';
import { useI18n } from '../i18n';
import { Refusal } from '../Refusal';
import { useSession } from '../session';
import { EvidenceSubmit } from './EvidenceSubmit';
import { FourEyesProgress } from './FourEyesProgress';
import { IncidentRegrade } from './IncidentRegrade';
import { POLL_MS } from './InboxPage';

export function CasePage() {
  const { caseId = '' } = useParams();
  const { t, when, processLabel, stageLabel, taskStatusLabel, roleList, actionLabel } = useI18n();
  const { session, readOnly } = useSession();
  const detail = useQuery({
    queryKey: ['case', caseId],
    queryFn: () => unwrap(api.GET('/api/cases/{caseId}', { params: { path: { caseId } } })),
    refetchInterval: POLL_MS,
  });
  if (detail.error) return <Refusal error={detail.error} />;
  if (!detail.data) return <Card loading />;
  const { case: c, tasks, evidence, timeline, linked, links } = detail.data;
  const stages = [...(PROCESS_STAGES[c.process] ?? [])];
  if (!stages.includes(c.stage)) stages.splice(Math.max(0, stages.length - 1), 0, c.stage);
  const current = stages.indexOf(c.stage);
  const rectification = linked.filter((l) => l.process === 'rectification');
  const otherLinked = linked.filter((l) => l.process !== 'rectification');
  // The owner's rectification item, open or returned: its evidence is uploaded and submitted here.
  const toSubmit = readOnly
    ? undefined
    : tasks.find(
        (task) =>
          task.kind === 'rectification' &&
          task.assigneeId === session.user.id &&
          (task.status === 'open' || task.status === 'returned'),
      );
  const supplierId = /^supplier-review:([^:]+):/.exec(c.id)?.[1];
  // Approvals awaiting votes, and those decided with votes: their four-eyes progress.
  const approvals = tasks.filter(
    (task) => task.allowedDecisions.length > 0 && (task.status === 'open' || task.votes.length),
  );
  const regradable =
    !readOnly && c.process === 'incident' && c.status === 'open' && session.user.roles.includes('manager');
  return (
    <Flex vertical gap={16}>
      <Typography.Title level={1} style={{ fontSize: 24, margin: 0 }}>
        {c.title}
      </Typography.Title>
      <Card>
        <Steps
          data-testid="stages"
          current={current}
          status={c.status === 'closed' ? 'finish' : 'process'}
          titlePlacement="vertical"
          size="small"
          items={stages.map((s) => ({ title: stageLabel(s, c.process) }))}
        />
      </Card>
      <Card>
        <Descriptions
          column={{ xs: 1, md: 2, xl: 3 }}
          items={[
            { key: 'case', label: t.case, children: <code>{c.id}</code> },
            { key: 'process', label: t.process, children: processLabel(c.process) },
            {
              key: 'stage',
              label: t.stage,
              children: (
                <Flex gap={8} align="center">
                  <Tag data-testid="stage-label" data-stage={c.stage}>
                    {stageLabel(c.stage, c.process)}
                  </Tag>
                  <Typography.Text type="secondary" code data-testid="stage">
                    {c.stage}
                  </Typography.Text>
                </Flex>
              ),
            },
            {
              key: 'status',
              label: t.status,
              children: (
                <Flex gap={4}>
                  <Tag color={c.status === 'open' ? 'blue' : 'default'}>{c.status === 'open' ? t.open : t.closed}</Tag>
                  {c.overdue && <Tag color="red">{t.overdue}</Tag>}
                </Flex>
              ),
            },
            { key: 'outcome', label: t.outcome, children: c.outcome ?? '—' },
            { key: 'initiator', label: t.initiator, children: c.initiatorId },
            { key: 'owner', label: t.owner, children: c.ownerId ?? c.ownerRole ?? '—' },
            { key: 'risk', label: t.riskLevel, children: c.riskLevel ?? '—' },
            { key: 'due', label: t.due, children: when(c.dueAt) },
            { key: 'created', label: t.created, children: when(c.createdAt) },
            ...(supplierId
              ? [
                  {
                    key: 'supplier',
                    label: t.supplierPage.open,
                    children: <Link to={`/suppliers/${encodeURIComponent(supplierId)}`}>{supplierId}</Link>,
                  },
                ]
              : []),
            {
              key: 'temporal',
              label: 'Temporal',
              children: (
                <a href={links.temporalUi} target="_blank" rel="noreferrer">
                  {t.temporalUi}
                </a>
              ),
            },
          ]}
        />
      </Card>
      <Card title={<h2 style={{ fontSize: 16, margin: 0 }}>{t.tasks}</h2>}>
        <Table<Task>
          rowKey="id"
          size="small"
          pagination={false}
          dataSource={tasks}
          locale={{ emptyText: <Typography.Text type="secondary">{t.nothing}</Typography.Text> }}
          columns={[
            { title: t.title, dataIndex: 'title', key: 'title' },
            {
              title: t.status,
              dataIndex: 'status',
              key: 'status',
              render: (s: string) => <Tag data-status={s}>{taskStatusLabel(s)}</Tag>,
            },
            {
              title: t.assignee,
              key: 'assignee',
              render: (_, task) => task.assigneeId ?? roleList(task.candidateRoles),
            },
            {
              title: t.due,
              key: 'due',
              render: (_, task) => (
                <Flex gap={4}>
                  {when(task.dueAt)}
                  {task.overdue && <Tag color="red">{t.overdue}</Tag>}
                </Flex>
              ),
            },
            {
              title: t.votes,
              key: 'votes',
              render: (_, task) =>
                task.votes.length
                  ? task.votes.map((v) => `${v.userId}: ${v.decision}`).join('; ')
                  : `${task.decision ?? '—'}`,
            },
          ]}
        />
      </Card>
      {approvals.length > 0 && (
        <Card title={<h2 style={{ fontSize: 16, margin: 0 }}>{t.fourEyes.title}</h2>}>
          <Flex vertical gap={24}>
            {approvals.map((task) => (
              <section key={task.id} aria-label={task.title}>
                <Typography.Text strong>{task.title}</Typography.Text>
                <FourEyesProgress task={task} />
              </section>
            ))}
          </Flex>
        </Card>
      )}
      {regradable && <IncidentRegrade incident={c} tasks={tasks} />}
      {toSubmit && <EvidenceSubmit key={toSubmit.id} task={toSubmit} />}
      {(rectification.length > 0 || otherLinked.length > 0) && (
        <Card title={<h2 style={{ fontSize: 16, margin: 0 }}>{t.rectificationItems}</h2>}>
          <Table<Case>
            rowKey="id"
            size="small"
            pagination={false}
            dataSource={[...rectification, ...otherLinked]}
            columns={[
              {
                title: t.title,
                key: 'title',
                render: (_, l) => <Link to={`/cases/${encodeURIComponent(l.id)}`}>{l.title}</Link>,
              },
              { title: t.process, key: 'process', render: (_, l) => processLabel(l.process) },
              { title: t.stage, key: 'stage', render: (_, l) => <Tag>{stageLabel(l.stage, l.process)}</Tag> },
              { title: t.owner, key: 'owner', render: (_, l) => l.ownerId ?? '—' },
              { title: t.due, key: 'due', render: (_, l) => when(l.dueAt) },
            ]}
          />
        </Card>
      )}
      <Card title={<h2 style={{ fontSize: 16, margin: 0 }}>{t.evidence}</h2>}>
        <Table<Evidence>
          rowKey="id"
          size="small"
          pagination={false}
          dataSource={evidence}
          locale={{ emptyText: <Typography.Text type="secondary">{t.nothing}</Typography.Text> }}
          columns={[
            {
              title: t.fileName,
              key: 'file',
              render: (_, e) => <a href={`/api/evidence/${encodeURIComponent(e.id)}/content`}>{e.fileName}</a>,
            },
            {
              title: 'SHA-256',
              dataIndex: 'sha256',
              key: 'sha',
              render: (s: string) => <code>{s.slice(0, 16)}…</code>,
            },
            { title: t.size, dataIndex: 'sizeBytes', key: 'size' },
            { title: t.uploadedBy, dataIndex: 'uploadedBy', key: 'by' },
            { title: t.created, dataIndex: 'createdAt', key: 'at', render: (d: string) => when(d) },
          ]}
        />
      </Card>
      <Card title={<h2 style={{ fontSize: 16, margin: 0 }}>{t.timeline}</h2>}>
        <Timeline
          data-testid="timeline"
          items={timeline.map((e) => ({
            key: e.seq,
            children: (
              <div>
                <div>
                  <strong data-action={e.action}>{actionLabel(e.action)}</strong> · {e.actorId} · {when(e.occurredAt)}
                </div>
                {e.reason && (
                  <div>
                    {t.reason}: {e.reason}
                  </div>
                )}
              </div>
            ),
          }))}
        />
      </Card>
    </Flex>
  );
}
