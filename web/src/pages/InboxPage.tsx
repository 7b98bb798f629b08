import { useInfiniteQuery, useMutation, useQueryClient } from '@tanstack/react-query';
import { App, Button, Card, Flex, Form, Input, Modal, Space, Table, Tag, Typography } from 'antd';
import { useEffect, useState } from 'react';
import { Link } from 'react-router';
import { api, unwrap, type Task } from '../api/client';
import type { paths } from '../api/schema';
import { useI18n } from '../i18n';
import { Refusal } from '../Refusal';
import { useSession } from '../session';
import { FourEyesProgress } from './FourEyesProgress';

/** How often the inbox asks again; an unchanged page is a 304 with no body. */
export const POLL_MS = 3000;
/** Tasks per page of each table, fetched from the API a page at a time (a thousand rows with their buttons took seconds to draw). */
const PAGE_SIZE = 50;

/** A part of the inbox, as the API names it (toDecide, toDo, toVerify). */
type InboxSection = NonNullable<NonNullable<paths['/api/tasks/inbox']['get']['parameters']['query']>['section']>;

const caseHref = (caseId: string) => `/cases/${encodeURIComponent(caseId)}`;

export function InboxPage() {
  const { t } = useI18n();
  const [deciding, setDeciding] = useState<{ task: Task; decision: string } | null>(null);
  return (
    <Flex vertical gap={24}>
      <Typography.Title level={1} style={{ fontSize: 24, margin: 0 }}>
        {t.inbox}
      </Typography.Title>
      <TaskTable
        id="to-decide"
        section="toDecide"
        title={t.toDecide}
        onDecide={(task, decision) => setDeciding({ task, decision })}
      />
      <TaskTable id="to-do" section="toDo" title={t.toDo} />
      <TaskTable id="to-verify" section="toVerify" title={t.toVerify} />
      {deciding && <DecideModal {...deciding} onClose={() => setDeciding(null)} />}
    </Flex>
  );
}

/**
 * One part of the inbox, soonest due first, a page of PAGE_SIZE at a time:
 * the API's pages are walked with its keyset cursor up to the page shown, so
 * every task is reachable however many there are, and each loaded page is
 * asked again every POLL_MS (a decision elsewhere drops its task, and the
 * rows after it move up).
 */
function useInboxSection(section: InboxSection) {
  const [page, setPage] = useState(1);
  const list = useInfiniteQuery({
    queryKey: ['inbox', section],
    queryFn: async ({ pageParam }) => {
      const data = await unwrap(
        api.GET('/api/tasks/inbox', {
          params: { query: { section, limit: PAGE_SIZE, ...(pageParam ? { cursor: pageParam } : {}) } },
        }),
      );
      // With a limit the API answers a page (the grouped answer is for clients that do not page).
      if (!('items' in data)) throw new Error('GET /api/tasks/inbox answered without a page');
      return data;
    },
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    refetchInterval: POLL_MS,
  });
  const loaded = list.data?.pages.flatMap((p) => p.items) ?? [];
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = list;
  const total = list.data?.pages[0]?.total ?? 0;
  // Past the API's cap (totalCapped: "1,000+") the pager reaches one page beyond what is loaded while there is more.
  const capped = list.data?.pages[0]?.totalCapped === true;
  const reachable = capped ? Math.max(total, loaded.length) + (hasNextPage ? PAGE_SIZE : 0) : total;
  const lastPage = Math.max(1, Math.ceil(reachable / PAGE_SIZE));
  const wanted = Math.min(page * PAGE_SIZE, reachable);
  useEffect(() => {
    if (loaded.length < wanted && hasNextPage && !isFetchingNextPage) void fetchNextPage();
  }, [loaded.length, wanted, hasNextPage, isFetchingNextPage, fetchNextPage]);
  // Tasks decided meanwhile can leave the page shown past the end: step back to the last one.
  useEffect(() => {
    if (list.data && page > lastPage) setPage(lastPage);
  }, [list.data, page, lastPage]);
  return {
    tasks: list.data ? loaded.slice((page - 1) * PAGE_SIZE, page * PAGE_SIZE) : undefined,
    total: capped ? `${total.toLocaleString()}+` : total,
    reachable,
    page,
    setPage,
    loading: list.isPending || (loaded.length < wanted && hasNextPage),
    error: list.error,
  };
}

function TaskTable({
  id,
  section,
  title,
  onDecide,
}: {
  id: string;
  section: InboxSection;
  title: string;
  onDecide?: (task: Task, decision: string) => void;
}) {
  const { t, when, taskStatusLabel } = useI18n();
  const { readOnly } = useSession();
  const { tasks, total, reachable, page, setPage, loading, error } = useInboxSection(section);
  return (
    <Card
      title={
        <h2 style={{ fontSize: 16, margin: 0 }}>
          {title}{' '}
          {tasks ? (
            <Tag bordered={false} data-testid="task-count" aria-label={t.taskCount(total)}>
              {total}
            </Tag>
          ) : null}
        </h2>
      }
      data-testid={id}
    >
      {error ? <Refusal error={error} /> : null}
      <Table<Task>
        rowKey="id"
        size="middle"
        loading={loading}
        dataSource={tasks ?? []}
        pagination={{
          current: page,
          pageSize: PAGE_SIZE,
          total: reachable,
          onChange: setPage,
          hideOnSinglePage: true,
          showSizeChanger: false,
          showTotal: () => t.taskCount(total),
        }}
        locale={{ emptyText: <Typography.Text type="secondary">{t.nothing}</Typography.Text> }}
        rowClassName={(task) => (task.overdue ? 'overdue' : '')}
        columns={[
          {
            title: t.title,
            key: 'title',
            render: (_, task) => <Link to={caseHref(task.caseId)}>{task.title}</Link>,
          },
          { title: t.case, dataIndex: 'caseId', key: 'case', render: (caseId: string) => <code>{caseId}</code> },
          {
            title: t.due,
            key: 'due',
            render: (_, task) => (
              <Space>
                <span>{when(task.dueAt)}</span>
                {task.overdue && (
                  <Tag color="red" data-testid="overdue">
                    {t.overdue}
                  </Tag>
                )}
              </Space>
            ),
          },
          {
            title: t.status,
            dataIndex: 'status',
            key: 'status',
            render: (s: string) => <Tag data-status={s}>{taskStatusLabel(s)}</Tag>,
          },
          ...(onDecide && !readOnly
            ? [
                {
                  title: t.actions,
                  key: 'actions',
                  render: (_: unknown, task: Task) => (
                    <Space>
                      {task.allowedDecisions.includes('approve') && (
                        <Button type="primary" onClick={() => onDecide(task, 'approve')}>
                          {t.approve}
                        </Button>
                      )}
                      {task.allowedDecisions.includes('reject') && (
                        <Button danger onClick={() => onDecide(task, 'reject')}>
                          {t.reject}
                        </Button>
                      )}
                    </Space>
                  ),
                },
              ]
            : []),
        ]}
      />
    </Card>
  );
}

function DecideModal({ task, decision, onClose }: { task: Task; decision: string; onClose(): void }) {
  const { t } = useI18n();
  const { message } = App.useApp();
  const queryClient = useQueryClient();
  const [form] = Form.useForm<{ comment: string }>();
  const decide = useMutation({
    mutationFn: (comment: string) =>
      unwrap(
        api.POST('/api/tasks/{taskId}/decision', {
          params: { path: { taskId: task.id } },
          body: { decision, comment },
        }),
      ),
    onSuccess: async () => {
      message.success(t.decided);
      onClose();
      await queryClient.invalidateQueries({ queryKey: ['inbox'] });
      await queryClient.invalidateQueries({ queryKey: ['case', task.caseId] });
    },
  });
  return (
    <Modal
      open
      title={task.title}
      okText={t.confirm}
      cancelText={t.cancel}
      okButtonProps={{ danger: decision === 'reject', loading: decide.isPending }}
      onOk={() => form.submit()}
      onCancel={onClose}
    >
      <p>
        {t.decide}:{' '}
        <Tag color={decision === 'reject' ? 'red' : 'blue'}>{decision === 'reject' ? t.reject : t.approve}</Tag>
      </p>
      {(task.approvalsRequired > 1 || task.votes.length > 0) && <FourEyesProgress task={task} />}
      <Form form={form} layout="vertical" onFinish={(v) => decide.mutate(v.comment)}>
        <Form.Item label={t.comment} name="comment" extra={t.commentHelp} rules={[{ required: decision === 'reject' }]}>
          <Input.TextArea id="decision-comment" rows={3} maxLength={5000} />
        </Form.Item>
      </Form>
      {decide.error ? <Refusal error={decide.error} title={t.refused} /> : null}
    </Modal>
  );
}
