/**
 * Four-eyes progress of an approval task (issue 13 §4, approvers): how many
 * approvals it needs, who has voted and for which function, and what is still
 * missing: on high risk the second approval must come from another function
 * (finance §5.2; domain/approval.ts `votingFunction`). Read from the task as
 * GET /api/cases/{caseId} returns it: approvalsRequired, candidateRoles, votes.
 */
import { Descriptions, Flex, Progress, Table, Tag, Typography } from 'antd';
import type { Task } from '../api/client';
import { useI18n } from '../i18n';

/**
 * A vote as the workflow records it. `function` is in every vote cast since
 * functions existed, but not yet in the OpenAPI Task schema (patch in
 * /work/notes/console2.md): read as optional.
 */
type Vote = Task['votes'][number];

/** Decisions that count towards the approvals required; any other (a veto) ends the task. */
const APPROVING = ['approve', 'approve_with_conditions'];

export interface FourEyesState {
  need: number;
  have: number;
  /** Functions that have approved. */
  used: string[];
  /** Functions of the task that may still give a missing approval (another function when two are needed). */
  open: string[];
  missing: number;
}

export function fourEyesState(task: Task): FourEyesState {
  const votes: Vote[] = task.votes;
  const approving = votes.filter((v) => APPROVING.includes(v.decision));
  const used: string[] = [...new Set(approving.flatMap((v) => (v.function ? [v.function] : [])))];
  const need = Math.max(1, task.approvalsRequired);
  const have = Math.min(need, approving.length);
  return {
    need,
    have,
    used,
    open: need > 1 ? task.candidateRoles.filter((r) => !used.includes(r)) : task.candidateRoles,
    missing: task.status === 'open' ? need - have : 0,
  };
}

export function FourEyesProgress({ task }: { task: Task }) {
  const { t, when, lang, roleLabel: roleName } = useI18n();
  const f = t.fourEyes;
  const s = fourEyesState(task);
  const votes: Vote[] = task.votes;
  const or = lang === 'zh-CN' ? '、' : ', ';
  return (
    <Flex vertical gap={8} data-testid="four-eyes" data-task-id={task.id} data-approvals={`${s.have}/${s.need}`}>
      <Flex gap={16} align="center" wrap>
        <Typography.Text strong data-testid="four-eyes-count">
          {f.progress(s.have, s.need)}
        </Typography.Text>
        <Progress
          aria-label={f.progress(s.have, s.need)}
          steps={s.need}
          percent={Math.round((s.have / s.need) * 100)}
          showInfo={false}
          strokeColor="#0a4fb5"
        />
        <Typography.Text type="secondary">{f.needs(s.need)}</Typography.Text>
      </Flex>
      <Table<Vote>
        rowKey={(v) => `${v.userId}:${v.at}`}
        size="small"
        pagination={false}
        dataSource={votes}
        locale={{ emptyText: <Typography.Text type="secondary">{f.noVotes}</Typography.Text> }}
        columns={[
          { title: f.who, dataIndex: 'userId', key: 'who' },
          {
            title: f.function,
            key: 'function',
            render: (_, v) => (v.function ? <Tag>{roleName(v.function)}</Tag> : '—'),
          },
          {
            title: f.decision,
            key: 'decision',
            render: (_, v) => f.decisions[v.decision] ?? v.decision,
          },
          { title: t.comment, key: 'comment', render: (_, v) => v.comment ?? '—' },
          { title: f.at, key: 'at', render: (_, v) => when(v.at) },
        ]}
      />
      <Descriptions
        size="small"
        column={1}
        items={[
          {
            key: 'missing',
            label: f.missing,
            children: (
              <span data-testid="four-eyes-missing">
                {s.missing > 0 ? f.missingN(s.missing, s.open.map(roleName).join(or)) : f.complete}
              </span>
            ),
          },
        ]}
      />
    </Flex>
  );
}
