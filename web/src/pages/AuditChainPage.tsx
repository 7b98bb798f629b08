/**
 * The audit-chain verification page for auditors (issue 13 §4): GET
 * /api/audit/verify recomputes the hash chain and checks it against its
 * anchors in Temporal; the page shows the verdict, what was checked, and
 * anything found broken. Verified again on demand.
 */
import { useQuery } from '@tanstack/react-query';
import { Alert, Button, Card, Descriptions, Flex, Input, Table, Tag, Typography } from 'antd';
import { useSearchParams } from 'react-router';
import { api, unwrap } from '../api/client';
import type { components } from '../api/schema';
import { useI18n } from '../i18n';
import { Refusal } from '../Refusal';

type Problem = components['schemas']['AuditTrailVerification']['anchors']['problems'][number];

/** One case's trail (GET /api/audit/cases/{caseId}/verify); the case id is kept in the URL (?caseId=). */
function CaseVerification() {
  const { t } = useI18n();
  const a = t.auditChain;
  const [params, setParams] = useSearchParams();
  const caseId = params.get('caseId') ?? '';
  const verify = useQuery({
    queryKey: ['audit-verify-case', caseId],
    enabled: caseId !== '',
    queryFn: () => unwrap(api.GET('/api/audit/cases/{caseId}/verify', { params: { path: { caseId } } })),
    refetchOnWindowFocus: false,
  });
  const v = verify.data;
  return (
    <Card title={<h2 style={{ fontSize: 16, margin: 0 }}>{a.oneCase}</h2>}>
      <Flex vertical gap={12}>
        <Typography.Text>{a.oneCaseIntro}</Typography.Text>
        <Input.Search
          aria-label={a.caseId}
          placeholder={a.caseId}
          enterButton={a.verifyCase}
          defaultValue={caseId}
          loading={verify.isFetching}
          allowClear
          onSearch={(value) => {
            const next = new URLSearchParams(params);
            if (value.trim()) next.set('caseId', value.trim());
            else next.delete('caseId');
            setParams(next);
            if (value.trim() === caseId) void verify.refetch();
          }}
          style={{ maxWidth: 480 }}
        />
        {verify.error ? <Refusal error={verify.error} /> : null}
        {v && (
          <>
            <Alert
              data-testid="case-verdict"
              data-ok={String(v.ok)}
              type={v.ok ? 'success' : 'error'}
              showIcon
              role="status"
              title={
                v.ok
                  ? a.caseOk(v.events, v.rowsChecked)
                  : a.caseBroken(v.firstBroken?.seq ?? 0, v.firstBroken?.problem ?? '')
              }
            />
            <Descriptions
              column={{ xs: 1, md: 2 }}
              items={[
                { key: 'partition', label: a.partition, children: v.partition ?? '—' },
                { key: 'checkpoint', label: a.checkpoint, children: v.checkpoint ? `#${v.checkpoint.seq}` : '—' },
              ]}
            />
          </>
        )}
      </Flex>
    </Card>
  );
}

export function AuditChainPage() {
  const { t, when } = useI18n();
  const a = t.auditChain;
  const verify = useQuery({
    queryKey: ['audit-verify'],
    queryFn: () => unwrap(api.GET('/api/audit/verify')),
    refetchOnWindowFocus: false,
  });
  const v = verify.data;
  return (
    <Flex vertical gap={16}>
      <Typography.Title level={1} style={{ fontSize: 24, margin: 0 }}>
        {a.title}
      </Typography.Title>
      <Typography.Paragraph style={{ margin: 0 }}>{a.intro}</Typography.Paragraph>
      <div>
        <Button onClick={() => verify.refetch()} loading={verify.isFetching}>
          {a.verifyAgain}
        </Button>
      </div>
      {verify.error ? <Refusal error={verify.error} /> : null}
      {!v ? (
        !verify.error && <Card loading />
      ) : (
        <>
          <Alert
            data-testid="audit-verdict"
            data-ok={String(v.ok && v.findings.length === 0)}
            type={v.ok && v.findings.length === 0 ? 'success' : 'error'}
            showIcon
            role="status"
            title={v.ok && v.findings.length === 0 ? a.ok : a.broken}
            description={v.ok && v.findings.length === 0 ? a.okDetail(v.eventsChecked) : v.findings.join(', ')}
          />
          <Card title={<h2 style={{ fontSize: 16, margin: 0 }}>{a.chain}</h2>}>
            <Descriptions
              column={{ xs: 1, md: 2 }}
              items={[
                {
                  key: 'checked',
                  label: a.eventsChecked,
                  children: <span data-testid="events-checked">{v.eventsChecked}</span>,
                },
                { key: 'lastSeq', label: a.lastSeq, children: v.lastSeq },
                {
                  key: 'lastHash',
                  label: a.lastHash,
                  children: <code style={{ wordBreak: 'break-all' }}>{v.lastHash}</code>,
                },
                {
                  key: 'broken',
                  label: a.firstBroken,
                  children: v.firstBroken ? (
                    <span>
                      #{v.firstBroken.seq} {v.firstBroken.problem}
                    </span>
                  ) : (
                    '—'
                  ),
                },
              ]}
            />
          </Card>
          <Card title={<h2 style={{ fontSize: 16, margin: 0 }}>{a.anchors}</h2>}>
            <Descriptions
              column={{ xs: 1, md: 2 }}
              items={[
                {
                  key: 'status',
                  label: t.status,
                  children: (
                    <Tag
                      color={
                        v.anchors.status === 'verified'
                          ? '#23663a'
                          : v.anchors.status === 'problems'
                            ? '#b7202e'
                            : 'default'
                      }
                    >
                      {a.anchorStatus[v.anchors.status] ?? v.anchors.status}
                    </Tag>
                  ),
                },
                { key: 'checked', label: a.anchorsChecked, children: v.anchors.checked },
                { key: 'seq', label: a.newestAnchoredSeq, children: v.anchors.newestAnchoredSeq ?? '—' },
                { key: 'at', label: a.newestAnchoredAt, children: when(v.anchors.newestAnchoredAt) },
                { key: 'wf', label: a.anchorWorkflow, children: v.anchors.workflowId ?? '—' },
              ]}
            />
            {v.anchors.problems.length > 0 && (
              <Table<Problem>
                rowKey={(p) => `${p.problem}-${p.seq ?? ''}`}
                size="small"
                pagination={false}
                dataSource={v.anchors.problems}
                columns={[
                  { title: a.problem, dataIndex: 'problem', key: 'problem' },
                  { title: a.lastSeq, key: 'seq', render: (_, p) => p.seq ?? '—' },
                  { title: a.count, dataIndex: 'count', key: 'count' },
                  { title: a.message, dataIndex: 'message', key: 'message' },
                ]}
              />
            )}
          </Card>
        </>
      )}
      <CaseVerification />
    </Flex>
  );
}
