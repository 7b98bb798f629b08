import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { App, Button, Card, Flex, Form, Input, Modal, Space, Table, Tag, Typography } from 'antd';
import { useState } from 'react';
import { Link } from 'react-router';
import { api, unwrap, type Task } from '../api/client';
import { useI18n } from '../i18n';
import { Refusal } from '../Refusal';
import { useSession } from '../session';
import { FourEyesProgress } from './FourEyesProgress';

/** How often the inbox asks again; an unchanged inbox is a 304 with no body. */
export const POLL_MS = 3000;
/** Rows drawn per page of each table. */
const PAGE_SIZE = 50;

const caseHref = (caseId: string) => `/cases/${encodeURIComponent(caseId)}`;

export function InboxPage() {
  const { t } = useI18n();
  const inbox = useQuery({
    queryKey: ['inbox'],
    queryFn: () => unwrap(api.GET('/api/tasks/inbox')),
    refetchInterval: POLL_MS,
  });
  const [deciding, setDeciding] = useState<{ task: Task; decision: string } | null>(null);
  return (
    <Flex vertical gap={24}>
      <Typography.Title level={1} style={{ fontSize: 24, margin: 0 }}>
        {t.inbox}
      </Typography.Title>
      {inbox.error ? <Refusal error={inbox.error} /> : null}
      <TaskTable
        id="to-decide"
        title={t.toDecide}
        tasks={inbox.data?.toDecide}
        loading={inbox.isPending}
        onDecide={(task, decision) => setDeciding({ task, decision })}
      />
      <TaskTable id="to-do" title={t.toDo} tasks={inbox.data?.toDo} loading={inbox.isPending} />
      <TaskTable id="to-verify" title={t.toVerify} tasks={inbox.data?.toVerify} loading={inbox.isPending} />
      {deciding && <DecideModal {...deciding} onClose={() => setDeciding(null)} />}
    </Flex>
  );
}

function TaskTable({
  id,
  title,
  tasks,
  loading,
  onDecide,
}: {
  id: string;
  title: string;
  tasks: Task[] | undefined;
  loading: boolean;
  onDecide?: (task: Task, decision: string) => void;
}) {
  const { t, when } = useI18n();
  const { readOnly } = useSession();
  return (
    <Card
      title={
        <h2 style={{ fontSize: 16, margin: 0 }}>
          {title}{' '}
          {tasks ? (
            <Tag bordered={false} data-testid="task-count" aria-label={t.taskCount(tasks.length)}>
              {tasks.length}
            </Tag>
          ) : null}
        </h2>
      }
      data-testid={id}
    >
      <Table<Task>
        rowKey="id"
        size="middle"
        loading={loading}
        dataSource={tasks ?? []}
        // A page of rows at a time: a thousand rows with their buttons took seconds to draw (`npm run bench`).
        pagination={{
          pageSize: PAGE_SIZE,
          hideOnSinglePage: true,
          showSizeChanger: false,
          showTotal: (total) => t.taskCount(total),
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
          { title: t.status, dataIndex: 'status', key: 'status', render: (s: string) => <Tag>{s}</Tag> },
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
