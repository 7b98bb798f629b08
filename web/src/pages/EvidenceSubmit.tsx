/**
 * An action owner's rectification item (issue 13, "Action owners"): drop the
 * evidence files (Upload.Dragger), watch each upload's progress, see the
 * SHA-256 the browser computed (crypto.subtle) beside the one the API stored
 * — they must be equal — then submit the item with its evidence.
 * Uploads go to POST /api/cases/{caseId}/evidence (multipart, with the task
 * id), the submission to POST /api/tasks/{taskId}/submission.
 */
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { App, Button, Card, Flex, Form, Input, Progress, Table, Tag, Typography, Upload, type UploadProps } from 'antd';
import { useRef, useState } from 'react';
import { api, ApiFailure, currentCsrfToken, unwrap, type Evidence, type Task } from '../api/client';
import { newIdempotencyKey } from '../idempotency';
import { useI18n } from '../i18n';
import { Refusal } from '../Refusal';

/** Solid tags, dark enough for white text at 4.5:1 (axe-core's contrast check). */
const MATCH_COLOUR = '#23663a';
const MISMATCH_COLOUR = '#b7202e';

type UploadRequestOption = Parameters<NonNullable<UploadProps['customRequest']>>[0];

interface Uploaded {
  uid: string;
  name: string;
  percent: number;
  /** Computed here, before the upload: null when the browser offers no crypto.subtle (a plain-HTTP origin). */
  localSha256: string | null | undefined;
  stored?: Evidence;
  error?: unknown;
}

/** The file's SHA-256 in hex, as the API computes it. */
export async function sha256Hex(file: Blob): Promise<string | null> {
  if (!globalThis.crypto?.subtle) return null;
  const digest = await crypto.subtle.digest('SHA-256', await file.arrayBuffer());
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

export function EvidenceSubmit({ task }: { task: Task }) {
  const { t } = useI18n();
  const e = t.evidenceUpload;
  const { message } = App.useApp();
  const queryClient = useQueryClient();
  const [uploads, setUploads] = useState<Uploaded[]>([]);
  const submitKey = useRef<{ body: string; key: string } | null>(null);
  const patch = (uid: string, change: Partial<Uploaded>) =>
    setUploads((all) => all.map((u) => (u.uid === uid ? { ...u, ...change } : u)));

  /** Uploads one file with progress (XMLHttpRequest: fetch reports none), its hash computed first. */
  async function upload(options: UploadRequestOption) {
    const file = options.file as File & { uid: string };
    setUploads((all) => [...all, { uid: file.uid, name: file.name, percent: 0, localSha256: undefined }]);
    const localSha256 = await sha256Hex(file);
    patch(file.uid, { localSha256 });
    const form = new FormData();
    form.append('file', file, file.name);
    form.append('taskId', task.id);
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `/api/cases/${encodeURIComponent(task.caseId)}/evidence`);
    xhr.withCredentials = true;
    xhr.setRequestHeader('X-CSRF-Token', currentCsrfToken());
    xhr.setRequestHeader('Idempotency-Key', newIdempotencyKey());
    xhr.upload.onprogress = (ev) => {
      if (!ev.lengthComputable) return;
      const percent = Math.round((ev.loaded / ev.total) * 100);
      patch(file.uid, { percent });
      options.onProgress?.({ percent });
    };
    xhr.onload = () => {
      let body: unknown = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = null;
      }
      if (xhr.status === 201) {
        patch(file.uid, { percent: 100, stored: body as Evidence });
        options.onSuccess?.(body);
        void queryClient.invalidateQueries({ queryKey: ['case', task.caseId] });
      } else {
        const envelope = (body as { error?: ApiFailure['body'] } | null)?.error ?? {
          code: String(xhr.status),
          message: xhr.statusText || 'upload failed',
          requestId: xhr.getResponseHeader('x-request-id') ?? '',
        };
        const error = new ApiFailure(xhr.status, envelope);
        patch(file.uid, { error });
        options.onError?.(error);
      }
    };
    xhr.onerror = () => {
      const error = new Error(e.networkError);
      patch(file.uid, { error });
      options.onError?.(error as never);
    };
    xhr.send(form);
  }

  const stored = uploads.flatMap((u) => (u.stored ? [u.stored.id] : []));
  const submit = useMutation({
    mutationFn: (comment: string | undefined) => {
      const body = { evidenceIds: stored, ...(comment ? { comment } : {}) };
      // The same body sent again (a double click, a lost answer) is the same request.
      const text = JSON.stringify(body);
      if (submitKey.current?.body !== text) submitKey.current = { body: text, key: newIdempotencyKey() };
      return unwrap(
        api.POST('/api/tasks/{taskId}/submission', {
          params: { path: { taskId: task.id }, header: { 'Idempotency-Key': submitKey.current.key } },
          body,
        }),
      );
    },
    onSuccess: async () => {
      message.success(e.submitted);
      await queryClient.invalidateQueries({ queryKey: ['case', task.caseId] });
      await queryClient.invalidateQueries({ queryKey: ['inbox'] });
    },
  });

  return (
    <Card title={<h2 style={{ fontSize: 16, margin: 0 }}>{e.title}</h2>} data-testid="evidence-submit">
      <Flex vertical gap={16}>
        {task.status === 'returned' && task.comment ? (
          <Typography.Paragraph data-testid="returned-reason" style={{ margin: 0 }}>
            <Tag color="#8a4b00">{e.returned}</Tag> {task.comment}
          </Typography.Paragraph>
        ) : null}
        <Upload.Dragger
          name="file"
          multiple
          showUploadList={false}
          customRequest={(options) => void upload(options)}
          aria-label={e.drop}
          data-testid="evidence-dropzone"
        >
          <p style={{ margin: 0 }}>{e.drop}</p>
          <p style={{ margin: 0 }}>
            <Typography.Text type="secondary">{e.dropHelp}</Typography.Text>
          </p>
        </Upload.Dragger>
        {uploads.length > 0 && (
          <Table<Uploaded>
            data-testid="evidence-uploads"
            rowKey="uid"
            size="small"
            pagination={false}
            dataSource={uploads}
            columns={[
              { title: t.fileName, dataIndex: 'name', key: 'name' },
              {
                title: e.progress,
                key: 'progress',
                render: (_, u) => (
                  <Progress
                    percent={u.percent}
                    size="small"
                    status={u.error ? 'exception' : u.stored ? 'success' : 'active'}
                    aria-label={`${e.progress} ${u.name}`}
                  />
                ),
              },
              {
                title: e.localSha,
                key: 'local',
                render: (_, u) => (
                  <code data-testid="local-sha256" style={{ wordBreak: 'break-all' }}>
                    {u.localSha256 === undefined ? '…' : (u.localSha256 ?? e.noSubtle)}
                  </code>
                ),
              },
              {
                title: e.serverSha,
                key: 'server',
                render: (_, u) =>
                  u.error ? (
                    <Refusal error={u.error} />
                  ) : (
                    <code data-testid="server-sha256" style={{ wordBreak: 'break-all' }}>
                      {u.stored?.sha256 ?? '…'}
                    </code>
                  ),
              },
              {
                title: e.check,
                key: 'check',
                render: (_, u) =>
                  !u.stored || !u.localSha256 ? (
                    '—'
                  ) : u.stored.sha256 === u.localSha256 ? (
                    <Tag color={MATCH_COLOUR} data-testid="sha-match">
                      {e.match}
                    </Tag>
                  ) : (
                    <Tag color={MISMATCH_COLOUR} data-testid="sha-mismatch">
                      {e.mismatch}
                    </Tag>
                  ),
              },
            ]}
          />
        )}
        <Form layout="vertical" onFinish={(v: { comment?: string }) => submit.mutate(v.comment)}>
          <Form.Item label={t.comment} name="comment" htmlFor="submission-comment">
            <Input.TextArea id="submission-comment" rows={2} maxLength={5000} />
          </Form.Item>
          <Button
            type="primary"
            htmlType="submit"
            disabled={stored.length === 0 || uploads.some((u) => !u.stored && !u.error)}
            loading={submit.isPending}
          >
            {e.submit}
          </Button>
        </Form>
        {submit.error ? <Refusal error={submit.error} title={e.refused} /> : null}
      </Flex>
    </Card>
  );
}
