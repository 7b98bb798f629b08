/**
 * Regrade an incident through its proper request (issue 13 §4, managers):
 * POST /api/incidents/{incidentId}/regrade with the new grade and the reason.
 * Up takes effect at once; down answers with the grade unchanged and the
 * approval task it opened (`downgradeTaskId`), which then shows among the
 * case's tasks with its four-eyes progress. A refusal (wrong stage, a
 * downgrade already pending, same grade) shows the API's own message.
 */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Alert, App, Button, Card, Descriptions, Form, Input, Select, Typography } from 'antd';
import { api, unwrap, type Case, type Task } from '../api/client';
import type { paths } from '../api/schema';
import { useIdempotencyKeys } from '../idempotency';
import { useI18n } from '../i18n';
import { Refusal } from '../Refusal';

type RegradeBody = paths['/api/incidents/{incidentId}/regrade']['post']['requestBody']['content']['application/json'];
type Grade = RegradeBody['grade'];
const GRADES = ['I', 'II', 'III', 'IV'] as const satisfies readonly Grade[];

/** A downgrade's approval task: `<caseId>:downgrade-<n>` (workflows/incident.ts). */
export const isDowngradeTask = (task: Task) => /:downgrade-\d+$/.test(task.id);

export function IncidentRegrade({ incident, tasks }: { incident: Case; tasks: Task[] }) {
  const { t } = useI18n();
  const r = t.regrade;
  const { message } = App.useApp();
  const queryClient = useQueryClient();
  const keyFor = useIdempotencyKeys();
  const [form] = Form.useForm<RegradeBody>();
  const incidentId = incident.businessKey;
  // The grade is the incident's data, not the case row's: its list row has it.
  const summary = useQuery({
    queryKey: ['incident-summary', incidentId, incident.updatedAt],
    queryFn: async () => {
      const page = await unwrap(api.GET('/api/incidents', { params: { query: { q: incidentId, limit: 50 } } }));
      return page.items.find((i) => i.incidentId === incidentId) ?? null;
    },
  });
  const pending = tasks.find((task) => isDowngradeTask(task) && task.status === 'open');
  const regrade = useMutation({
    mutationFn: (body: RegradeBody) =>
      unwrap(
        api.POST('/api/incidents/{incidentId}/regrade', {
          params: { path: { incidentId }, header: { 'Idempotency-Key': keyFor(body) } },
          body,
        }),
      ),
    onSuccess: async (step) => {
      message.success(step.downgradeTaskId ? r.requested : r.done(r.gradeName(step.grade)));
      form.resetFields();
      await queryClient.invalidateQueries({ queryKey: ['case', incident.id] });
      await queryClient.invalidateQueries({ queryKey: ['incident-summary', incidentId] });
    },
  });
  const grade = summary.data?.grade ?? null;
  return (
    <Card title={<h2 style={{ fontSize: 16, margin: 0 }}>{r.title}</h2>} data-testid="regrade">
      <Typography.Paragraph type="secondary">{r.intro}</Typography.Paragraph>
      <Descriptions
        size="small"
        column={1}
        items={[
          {
            key: 'grade',
            label: r.current,
            children: <span data-testid="incident-grade">{grade ? r.gradeName(grade) : '—'}</span>,
          },
        ]}
      />
      {pending && <Alert type="info" showIcon title={r.pending} style={{ marginBottom: 16 }} />}
      <Form<RegradeBody>
        form={form}
        name="regrade"
        layout="vertical"
        style={{ maxWidth: 560 }}
        onFinish={(v) => regrade.mutate({ grade: v.grade, reason: v.reason.trim() })}
      >
        <Form.Item label={r.grade} name="grade" rules={[{ required: true }]}>
          <Select<Grade> options={GRADES.map((g) => ({ value: g, label: r.gradeName(g), disabled: g === grade }))} />
        </Form.Item>
        <Form.Item label={r.reason} name="reason" rules={[{ required: true, whitespace: true, max: 2000 }]}>
          <Input.TextArea rows={2} maxLength={2000} />
        </Form.Item>
        <Button type="primary" htmlType="submit" loading={regrade.isPending}>
          {r.submit}
        </Button>
      </Form>
      {regrade.error ? (
        <div style={{ marginTop: 16 }}>
          <Refusal error={regrade.error} title={r.refused} />
        </div>
      ) : null}
    </Card>
  );
}
