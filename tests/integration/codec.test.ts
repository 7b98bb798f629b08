/**
 * The trust boundary around Temporal (platform/codec.ts, api/routes/codec.ts),
 * on the real dev server: what Temporal holds is sealed; a payload forged by
 * someone who reaches the frontend without the key — an Update that says it
 * is another user, a signal, a start — is refused and wedges nothing, and the
 * real API then takes the case to its end; a failure's message (a refusal
 * Temporal records) is sealed like a payload, and the API still answers it;
 * the codec server shows sealed payloads in clear to the oversight functions
 * only, to the Temporal UI's origin only, and audits each reading.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection, WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure, defaultPayloadConverter, type Payload, type PayloadCodec } from '@temporalio/common';
import { historyFromJSON, historyToJSON } from '@temporalio/common/lib/proto-utils';
import { temporal } from '@temporalio/proto';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  codecFor,
  CONTEXT_METADATA,
  dataConverterFor,
  ENCRYPTED_ENCODING,
  FAILURE_CONVERTER_PATH,
  KEY_ID_METADATA,
  REFUSED_PAYLOADS_INTERCEPTOR,
} from '../../platform/codec';
import { scheduleSupplierReview } from '../../platform/cases';
import { connectWorker } from '../../platform/temporalConnection';
import { createWorker, WORKFLOWS_PATH } from '../../worker';
import { decideUpdate, rectificationItemSignal, type RectificationItemEvent } from '../../workflows/definitions';
import { PAYLOAD_REFUSED, REFUSED_PAYLOAD_KEY } from '../../workflows/shared/refusedPayloads';
import { replayDataConverter, TEST_CODEC_KEYS } from '../support/codecKeys';
import { quiet } from '../support/drive';
import { eventually, useHarness, type TestUser } from '../support/harness';
import { HISTORY_FIXTURES } from '../support/histories';

let bundleDir: string | undefined;
/** The run's shared bundle, which carries the refused-payloads interceptor as every bundle does (worker.ts). */
async function bundleWithRefusals(): Promise<string> {
  const shared = inject('workflowBundlePath');
  if (!readFileSync(shared, 'utf8').includes(REFUSED_PAYLOAD_KEY))
    throw new Error('the shared workflow bundle lacks the refused-payloads interceptor (WORKFLOW_BUNDLE_OPTIONS)');
  return shared;
}

const h = useHarness('codec', { workflowBundlePath: bundleWithRefusals });

const UI_ORIGIN = 'http://localhost:8233';
/** A name that appears nowhere else: if Temporal held it in clear, the bytes would show it. */
const PERSON = 'Evangeline Thistlewood-Okonkwo';
const PERSON_ZH = '欧阳娜娜';
const OTHER_KEY = Buffer.alloc(32, 0x5a).toString('base64');

let connection: Connection;
/** Someone who reaches the frontend with no key: a client without the codec. */
let raw: Client;
/** Someone with a key of their own under a known key id. */
let wrongKey: Client;
/**
 * Sends clear payloads like `raw`, but reads answers with the product's key
 * and failure converter: what the refusal of a forged call says, to whoever
 * holds the key (the SDK hands the codec the whole failure, sealed message
 * included).
 */
let rawReadByKeyHolder: Client;

beforeAll(async () => {
  connection = await Connection.connect({ address: inject('temporalAddress') });
  raw = new Client({ connection, namespace: 'default' });
  wrongKey = new Client({
    connection,
    namespace: 'default',
    dataConverter: dataConverterFor({ codecKeys: `test2:${OTHER_KEY}` }),
  });
  const product = codecFor({ codecKeys: TEST_CODEC_KEYS })!;
  const sendsClearReadsSealed: PayloadCodec = {
    encode: async (payloads) => payloads,
    decode: (payloads) => product.decode(payloads),
  };
  rawReadByKeyHolder = new Client({
    connection,
    namespace: 'default',
    dataConverter: { payloadCodecs: [sendsClearReadsSealed], failureConverterPath: FAILURE_CONVERTER_PATH },
  });
});

const stopLater: Array<() => Promise<void>> = [];

afterAll(async () => {
  for (const stop of stopLater) await stop();
  await connection?.close();
  if (bundleDir) rmSync(bundleDir, { recursive: true, force: true });
});

async function startRequest(extra: Record<string, unknown> = {}) {
  const res = await h.api('POST', '/api/cases/approval-requests', {
    as: 'lead',
    json: {
      requestKey: h.unique('CODEC'),
      title: 'Onboard courier partner',
      description: `Contact at the courier: ${PERSON} (${PERSON_ZH}), mobile +86 138 0013 8000`,
      probability: 2,
      impact: 3,
      ...extra,
    },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const caseId: string = res.body.caseId;
  return { caseId, taskId: `${caseId}:approval` };
}

const decide = (taskId: string, as: TestUser, json: Record<string, unknown>) =>
  h.api('POST', `/api/tasks/${encodeURIComponent(taskId)}/decision`, { as, json });

const eventTypes = async (workflowId: string) =>
  ((await raw.workflow.getHandle(workflowId).fetchHistory()).events ?? []).map(
    (e) => temporal.api.enums.v1.EventType[e.eventType ?? 0],
  );

/**
 * Every payload of a history in proto3 JSON, with where it sits. Clear by
 * design, and left out: search attributes (no personal data, STYLE.md) and
 * the SDK's own patch markers (the patch id, written by the SDK core).
 */
function payloadsOf(node: unknown, at = ''): Array<{ at: string; encoding: string; keyId?: string; boundTo?: string }> {
  if (Array.isArray(node)) return node.flatMap((item, i) => payloadsOf(item, `${at}[${i}]`));
  if (node === null || typeof node !== 'object') return [];
  const record = node as Record<string, unknown>;
  const metadata = record.metadata as Record<string, string> | undefined;
  if (metadata && typeof metadata.encoding === 'string') {
    const decode = (v: string | undefined) => (v ? Buffer.from(v, 'base64').toString('utf8') : undefined);
    return [
      {
        at,
        encoding: decode(metadata.encoding)!,
        keyId: decode(metadata[KEY_ID_METADATA]),
        boundTo: decode(metadata[CONTEXT_METADATA]),
      },
    ];
  }
  return Object.entries(record)
    .filter(([key]) => key !== 'searchAttributes' && key !== 'patch-data')
    .flatMap(([key, value]) => payloadsOf(value, `${at}.${key}`));
}

const asJson = (p: Payload) => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
  ),
  data: Buffer.from(p.data ?? []).toString('base64'),
});
const fromJson = (p: { metadata: Record<string, string>; data: string }): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(p.data, 'base64'),
});

describe('what Temporal holds', () => {
  it('is sealed: a client without the key reads no payload in clear and no personal name in the bytes', async () => {
    const { caseId, taskId } = await startRequest();
    expect((await decide(taskId, 'approver', { decision: 'approve', comment: `checked with ${PERSON}` })).status).toBe(
      200,
    );
    expect((await h.temporal.workflow.getHandle(caseId).result()).outcome).toBe('approved');

    const history = await raw.workflow.getHandle(caseId).fetchHistory();
    const payloads = payloadsOf(JSON.parse(historyToJSON(history)));
    // Start input, activity inputs and results, the decision, its answer, the result.
    expect(payloads.length).toBeGreaterThan(10);
    expect(payloads.filter((p) => p.encoding !== ENCRYPTED_ENCODING || p.keyId !== 'test2')).toEqual([]);
    // Each bound to this case: copied into another, it would not open there.
    const boundHere = JSON.stringify(['default', caseId]);
    expect(payloads.filter((p) => p.boundTo !== boundHere)).toEqual([]);
    const bytes = Buffer.from(temporal.api.history.v1.History.encode(history).finish());
    for (const secret of [PERSON, 'Thistlewood', PERSON_ZH, '138 0013 8000', 'checked with']) {
      expect(bytes.includes(Buffer.from(secret)), secret).toBe(false);
    }
    // …and it is there, sealed: the start event's input opens with the key.
    const input = history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads! as Payload[];
    const opened = await codecFor({ codecKeys: TEST_CODEC_KEYS })!.decode(input);
    expect(JSON.stringify(opened.map((p) => defaultPayloadConverter.fromPayload(p)))).toContain(PERSON);

    // A sealed history replays with the codec (as the replay test does) and not without it.
    const bundle = { codePath: await bundleWithRefusals() };
    await Worker.runReplayHistory({ workflowBundle: bundle, dataConverter: replayDataConverter }, history, caseId);
    await expect(Worker.runReplayHistory({ workflowBundle: bundle }, history, caseId)).rejects.toThrow();
    // The clear fixtures recorded before the codec replay with it too (GOVERNANCE_CODEC_ACCEPT_PLAINTEXT).
    const fixture = JSON.parse(readFileSync(path.join(HISTORY_FIXTURES, 'approval-approved.json'), 'utf8'));
    await Worker.runReplayHistory(
      { workflowBundle: bundle, dataConverter: replayDataConverter },
      historyFromJSON(fixture.history),
      fixture.workflowId,
    );
  });
});

describe('a forged payload', () => {
  it('an Update claiming to be an approver, without the key or with another key, is rejected before history records it; the real approver then decides', async () => {
    const { caseId, taskId } = await startRequest();
    await quiet(h, caseId);
    const before = await eventTypes(caseId);
    const forged = {
      taskId,
      actor: { userId: 'appr1', roles: ['risk'] },
      decision: 'approve',
      comment: 'forged approval',
    };
    const forge = (client: Client) =>
      client.workflow
        .getHandle(caseId)
        .executeUpdate(decideUpdate, { args: [forged as never] })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
    // The refusal's message is sealed like any payload (platform/failureConverter.cjs): without
    // the key the caller cannot even read why, and with another key it reads only the type.
    expect(await forge(raw)).toMatchObject({ message: `Unknown encoding: ${ENCRYPTED_ENCODING}` });
    for (const [who, client, reason] of [
      ['another key', wrongKey, /^Encoded failure$/],
      [
        'no key, read with the key',
        rawReadByKeyHolder,
        /^update decide was refused: a clear payload \(encoding json\/plain\)/,
      ],
    ] as const) {
      const err = await forge(client);
      expect(err, who).toBeInstanceOf(WorkflowUpdateFailedError);
      const failure = (err as WorkflowUpdateFailedError).cause as ApplicationFailure;
      expect(failure.type, who).toBe(PAYLOAD_REFUSED);
      expect(failure.message, who).toMatch(reason);
    }
    expect(await eventTypes(caseId)).toEqual(before);
    expect(await h.sql('select status, decided_by from tasks where id = $1', [taskId])).toEqual([
      { status: 'open', decided_by: null },
    ]);
    expect(
      await h.sql(`select 1 from audit_events where case_id = $1 and action = 'approval.decided'`, [caseId]),
    ).toEqual([]);

    const real = await decide(taskId, 'approver2', { decision: 'approve', comment: 'the real decision' });
    expect(real.status, JSON.stringify(real.body)).toBe(200);
    const result = await h.temporal.workflow.getHandle(caseId).result();
    expect(result.outcome).toBe('approved');
    expect(await h.sql('select status, decided_by from tasks where id = $1', [taskId])).toEqual([
      { status: 'done', decided_by: 'appr2' },
    ]);
  });

  it('a signal that says a rectification item is verified is dropped, wedges nothing, and the item closes only when really verified', async () => {
    const { caseId, taskId } = await startRequest({ ownerId: 'owner' });
    const decided = await decide(taskId, 'approver', {
      decision: 'approve_with_conditions',
      conditions: ['Sign the data processing agreement'],
      comment: 'once signed',
    });
    expect(decided.body.status, JSON.stringify(decided.body)).toBe('approved_with_conditions');
    const itemId = `${caseId}:rectification:1`;
    await eventually(async () => (await h.sql('select 1 from tasks where id = $1', [itemId])).length === 1);
    await quiet(h, caseId);
    const signalled = async () =>
      (await eventTypes(caseId)).filter((t) => t === 'EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED').length;
    const signalsBefore = await signalled();

    const forged: RectificationItemEvent = {
      taskId: itemId,
      event: 'closed',
      result: { taskId: itemId, status: 'verified', submissions: 1, verifiedBy: 'appr1' },
    };
    // A signal is written to history before any worker sees it: the worker must step over it, not stop on it.
    await raw.workflow.getHandle(caseId).signal(rectificationItemSignal, forged);
    await wrongKey.workflow.getHandle(caseId).signal(rectificationItemSignal, forged);
    await quiet(h, caseId);
    const types = await eventTypes(caseId);
    expect(await signalled()).toBe(signalsBefore + 2);
    expect(types.slice(types.lastIndexOf('EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED'))).toContain(
      'EVENT_TYPE_WORKFLOW_TASK_COMPLETED',
    );
    expect(types).not.toContain('EVENT_TYPE_WORKFLOW_TASK_FAILED');
    expect(await h.sql('select status from cases where id = $1', [caseId])).toEqual([{ status: 'open' }]);
    expect(await h.sql('select status from tasks where id = $1', [itemId])).toEqual([{ status: 'open' }]);

    // The real way: the owner submits evidence, someone else verifies, the case closes.
    const form = new FormData();
    form.append('file', new File([Buffer.from('signed agreement')], 'dpa.txt', { type: 'text/plain' }));
    form.append('taskId', itemId);
    const evidence = await h.api('POST', `/api/cases/${encodeURIComponent(caseId)}/evidence`, {
      as: 'owner',
      body: form,
    });
    expect(evidence.status, JSON.stringify(evidence.body)).toBe(201);
    const submitted = await h.api('POST', `/api/tasks/${encodeURIComponent(itemId)}/submission`, {
      as: 'owner',
      json: { evidenceIds: [evidence.body.id], comment: 'signed' },
    });
    expect(submitted.status, JSON.stringify(submitted.body)).toBe(200);
    const verified = await h.api('POST', `/api/tasks/${encodeURIComponent(itemId)}/verification`, {
      as: 'approver2',
      json: { verdict: 'accept' },
    });
    expect(verified.body).toMatchObject({ status: 'verified' });
    const result = await h.temporal.workflow.getHandle(caseId).result();
    expect(result.outcome).toBe('approved_with_conditions');
    expect(result.rectifications.map((r: { verifiedBy?: string }) => r.verifiedBy)).toEqual(['appr2']);
  });

  it('a start fails at once, before a single activity; its id stays taken (only the frontend can refuse the start itself)', async () => {
    const requestKey = h.unique('FORGED');
    const workflowId = `approval-request:${requestKey}`;
    const handle = await raw.workflow.start('approvalRequestWorkflow', {
      taskQueue: h.taskQueue,
      workflowId,
      args: [{ caseId: workflowId, title: 'forged', initiator: { userId: 'appr1', roles: ['risk'] } }],
    });
    // The forger cannot read why (the failure's message is sealed); the key holder can.
    await expect(handle.result()).rejects.toThrow(`Unknown encoding: ${ENCRYPTED_ENCODING}`);
    const err = await h.temporal.workflow
      .getHandle(workflowId)
      .result()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const failure = (err as WorkflowFailedError).cause as ApplicationFailure;
    expect(failure.type).toBe(PAYLOAD_REFUSED);
    expect(failure.message).toMatch(/^the workflow input was refused: a clear payload/);
    const history = await raw.workflow.getHandle(workflowId).fetchHistory();
    const recorded = history.events!.find((e) => e.workflowExecutionFailedEventAttributes)!
      .workflowExecutionFailedEventAttributes!.failure!;
    expect(recorded).toMatchObject({ message: 'Encoded failure', stackTrace: '' });
    expect(recorded.applicationFailureInfo?.type).toBe(PAYLOAD_REFUSED);
    const bytes = Buffer.from(temporal.api.history.v1.History.encode(history).finish());
    expect(bytes.includes(Buffer.from('the workflow input was refused'))).toBe(false);
    const types = await eventTypes(workflowId);
    expect(types).not.toContain('EVENT_TYPE_ACTIVITY_TASK_SCHEDULED');
    expect(types).not.toContain('EVENT_TYPE_WORKFLOW_TASK_FAILED');
    expect(await h.sql('select 1 from cases where id = $1', [workflowId])).toEqual([]);
    expect(await h.sql('select 1 from audit_events where case_id = $1', [workflowId])).toEqual([]);

    const real = await h.api('POST', '/api/cases/approval-requests', {
      as: 'lead',
      json: { requestKey, title: 'Onboard courier partner', probability: 2, impact: 3 },
    });
    expect(real.status).toBe(409);
  });

  it('a sealed start input copied from one case into a start of another is refused there, before a single activity', async () => {
    const { caseId } = await startRequest();
    const history = await raw.workflow.getHandle(caseId).fetchHistory();
    const [stolen] = history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads! as Payload[];
    // Someone at the frontend without the key, pasting the sealed bytes in place of an argument.
    const PASTE = '"paste the stolen payload here"';
    const paster = new Client({
      connection,
      namespace: 'default',
      dataConverter: {
        payloadCodecs: [
          {
            encode: async (payloads) =>
              payloads.map((p) => (Buffer.from(p.data ?? []).toString() === PASTE ? stolen! : p)),
            decode: async (payloads) => payloads,
          },
        ],
      },
    });
    const workflowId = `approval-request:${h.unique('PASTED')}`;
    await paster.workflow.start('approvalRequestWorkflow', {
      taskQueue: h.taskQueue,
      workflowId,
      args: [JSON.parse(PASTE)],
    });
    const copied = await raw.workflow.getHandle(workflowId).fetchHistory();
    const input = copied.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads! as Payload[];
    expect(Buffer.from(input[0]!.data!).equals(Buffer.from(stolen!.data!))).toBe(true);

    const err = await h.temporal.workflow
      .getHandle(workflowId)
      .result()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const failure = (err as WorkflowFailedError).cause as ApplicationFailure;
    expect(failure.type).toBe(PAYLOAD_REFUSED);
    expect(failure.message).toBe(
      `the workflow input was refused: sealed for another workflow (${JSON.stringify(['default', caseId])})`,
    );
    const types = await eventTypes(workflowId);
    expect(types).not.toContain('EVENT_TYPE_ACTIVITY_TASK_SCHEDULED');
    expect(types).not.toContain('EVENT_TYPE_WORKFLOW_TASK_FAILED');
    expect(await h.sql('select 1 from cases where id = $1', [workflowId])).toEqual([]);
    expect(await h.sql('select 1 from audit_events where case_id = $1', [workflowId])).toEqual([]);
    await h.temporal.workflow.getHandle(caseId).terminate('codec test done');
  });

  it("a Schedule's run is not taken for a copy: its input, sealed for the action's workflow id, opens in the run the server names <id>-<time>", async () => {
    const supplierId = h.unique('SUP');
    await scheduleSupplierReview(h.temporal, h.taskQueue, {
      supplierId,
      dueAt: new Date(Date.now() + 200 * 86_400_000).toISOString(),
    });
    const schedule = h.temporal.schedule.getHandle(`supplier-review-schedule:${supplierId}`);
    try {
      const described = await schedule.describe();
      expect(described.action.type).toBe('startWorkflow');
      await schedule.trigger();
      const run = await eventually(async () => (await schedule.describe()).info.recentActions[0]?.action.workflow);
      expect(run.workflowId).toMatch(new RegExp(`^supplier-review-launch:${supplierId}-\\d{4}-\\d{2}-\\d{2}T`));
      // Its input opened: the launcher went on to its activity (a refused input fails before any).
      await eventually(async () => (await eventTypes(run.workflowId)).includes('EVENT_TYPE_ACTIVITY_TASK_SCHEDULED'));
      expect(await eventTypes(run.workflowId)).not.toContain('EVENT_TYPE_WORKFLOW_EXECUTION_FAILED');
      await h.temporal.workflow
        .getHandle(run.workflowId)
        .terminate('codec test done')
        .catch(() => undefined);
    } finally {
      await schedule.delete();
    }
  });

  it('would wedge the case if the codec threw: the SDK fails the workflow task on every attempt (why the codec marks instead)', async () => {
    const taskQueue = h.unique('codec-throws');
    const nativeConnection = await connectWorker(inject('temporalAddress'), { temporalNamespace: 'default' });
    const throwing = codecFor({ codecKeys: TEST_CODEC_KEYS })!.withRefusalMode('throw');
    const worker = await createWorker({
      connection: nativeConnection,
      temporal: h.temporal,
      db: h.database.db,
      namespace: 'default',
      taskQueue,
      workflowBundle: { codePath: await bundleWithRefusals() },
      dataConverter: { payloadCodecs: [throwing] },
    });
    const running = worker.run();
    // Its shutdown waits on a long poll: it runs after the tests, not in this one's time.
    stopLater.push(async () => {
      worker.shutdown();
      await running;
      await nativeConnection.close();
    });
    const ownQueue = h.settings.taskQueue;
    let caseId = '';
    try {
      h.settings.taskQueue = taskQueue;
      ({ caseId } = await startRequest());
      h.settings.taskQueue = ownQueue;
      await raw.workflow.getHandle(caseId).signal(rectificationItemSignal, { taskId: 'x', event: 'opened' });
      const failed = await eventually(async () => {
        const { raw: description } = await h.temporal.workflow.getHandle(caseId).describe();
        return (description.pendingWorkflowTask?.attempt ?? 0) >= 2 ? description : undefined;
      });
      expect(failed.pendingWorkflowTask!.attempt).toBeGreaterThanOrEqual(2);
      const history = await raw.workflow.getHandle(caseId).fetchHistory();
      const failure = history.events!.find((e) => e.workflowTaskFailedEventAttributes)!
        .workflowTaskFailedEventAttributes!.failure!;
      expect(failure.message).toMatch(/payload refused: a clear payload/);
      await h.temporal.workflow.getHandle(caseId).terminate('codec test: wedged on purpose');
    } finally {
      h.settings.taskQueue = ownQueue;
    }
    // A worker of its own starts here: slow on a loaded machine.
  }, 120_000);
});

describe('a refusal Temporal records', () => {
  it('keeps its message and stack sealed in history; the API still answers with its status, reason and message', async () => {
    // A refusal raised after the step was accepted (an incident id already taken, found when the
    // complaint starts the incident) is recorded in the complaint's history; one from a validator is not.
    const accepted = await h.api('POST', '/api/complaints', {
      as: 'manager',
      json: {
        customerRef: h.unique('CUST'),
        channel: 'hotline',
        type: 'transaction_dispute',
        subject: `Refund for ${PERSON}`,
      },
    });
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(201);
    const { caseId, complaintId } = accepted.body as { caseId: string; complaintId: string };
    const incidentId = h.unique('INC');
    const report = {
      incidentId,
      category: 'transaction_fraud',
      system: 'cards',
      occurredAt: new Date(Date.now() - 3_600_000).toISOString(),
      impact: { affectedUsers: 2, amountCny: 300 },
    };
    const first = await h.api('POST', '/api/incidents', {
      as: 'manager',
      json: { ...report, title: 'Reported first' },
    });
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    try {
      const taken = await h.api('POST', `/api/complaints/${complaintId}/raise-incident`, {
        as: 'manager',
        json: report,
      });
      expect(taken.status, JSON.stringify(taken.body)).toBe(409);
      const message = `incident ${incidentId} already exists`;
      expect(taken.body.error).toMatchObject({ code: 'CONFLICT', reason: 'INCIDENT_EXISTS', message });

      const history = await raw.workflow.getHandle(caseId).fetchHistory();
      const outcomes = history
        .events!.map((e) => e.workflowExecutionUpdateCompletedEventAttributes?.outcome?.failure)
        .filter((f) => !!f);
      expect(outcomes).toHaveLength(1);
      const [recorded] = outcomes;
      expect(recorded).toMatchObject({ message: 'Encoded failure', stackTrace: '' });
      expect(recorded!.applicationFailureInfo?.type).toBe('INCIDENT_EXISTS');
      const sealed = recorded!.encodedAttributes as Payload;
      expect(Buffer.from(sealed.metadata!.encoding!).toString()).toBe(ENCRYPTED_ENCODING);
      const bytes = Buffer.from(temporal.api.history.v1.History.encode(history).finish());
      for (const secret of [message, 'already exists', PERSON, 'complaint.ts']) {
        expect(bytes.includes(Buffer.from(secret)), secret).toBe(false);
      }
      // Sealed, not lost: with the key, the message and the workflow's stack are there.
      const [opened] = await codecFor({ codecKeys: TEST_CODEC_KEYS })!.decode([sealed]);
      const attributes = defaultPayloadConverter.fromPayload<{ message: string; stack_trace: string }>(opened!);
      expect(attributes.message).toBe(message);
      expect(attributes.stack_trace).toMatch(/complaint/);
    } finally {
      await h.temporal.workflow.getHandle(first.body.caseId).terminate('codec test done');
      await h.temporal.workflow.getHandle(caseId).terminate('codec test done');
    }
  });
});

describe('the codec server', () => {
  let sealed: Payload[] = [];
  let auditBefore = 0;

  beforeAll(async () => {
    const { caseId } = await startRequest();
    const history = await raw.workflow.getHandle(caseId).fetchHistory();
    sealed = history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads! as Payload[];
    auditBefore = (await h.sql(`select count(*)::int as n from audit_events where action like 'codec.%'`))[0].n;
  });

  const call = (
    path: string,
    options: { as?: TestUser; token?: string | null; json?: unknown; origin?: string; method?: string } = {},
  ) =>
    h.api(options.method ?? 'POST', path, {
      as: options.as,
      token: options.token,
      json: options.json,
      headers: { 'x-namespace': 'default', ...(options.origin ? { origin: options.origin } : {}) },
    });

  it('decodes for the oversight functions, in the format of the Temporal UI, with CORS for its origin only', async () => {
    for (const as of ['approver', 'approver2', 'internalAudit'] as const) {
      const res = await call('/codec/decode', { as, json: { payloads: sealed.map(asJson) }, origin: UI_ORIGIN });
      expect(res.status, `${as}: ${JSON.stringify(res.body)}`).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
      expect(res.headers.get('access-control-allow-credentials')).toBe('true');
      const values = res.body.payloads.map((p: never) => defaultPayloadConverter.fromPayload(fromJson(p)));
      expect(JSON.stringify(values)).toContain(PERSON);
    }
    const elsewhere = await call('/codec/decode', {
      as: 'approver',
      json: { payloads: sealed.map(asJson) },
      origin: 'https://evil.example',
    });
    expect(elsewhere.headers.get('access-control-allow-origin')).toBeNull();
    expect(elsewhere.headers.get('access-control-allow-credentials')).toBeNull();
    expect(elsewhere.headers.get('vary')).toMatch(/Origin/);
  });

  it('decodes for auditors too: reading is not a write (api/auth.ts READ_ONLY_POSTS lists /codec/decode)', async () => {
    const res = await call('/codec/decode', {
      as: 'auditor',
      json: { payloads: sealed.map(asJson) },
      origin: UI_ORIGIN,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const values = res.body.payloads.map((p: never) => defaultPayloadConverter.fromPayload(fromJson(p)));
    expect(JSON.stringify(values)).toContain(PERSON);
    // Still refused the encoding, which makes payloads the worker trusts.
    expect((await call('/codec/encode', { as: 'auditor', json: { payloads: [] } })).status).toBe(403);
  });

  it('answers a preflight from the UI, and refuses any other origin, method or header', async () => {
    const preflight = (origin: string, method = 'POST', headers = 'authorization,content-type,x-namespace') =>
      h.app.request('/codec/decode', {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': headers },
      });
    const ok = await preflight(UI_ORIGIN);
    expect(ok.status).toBe(204);
    expect(Object.fromEntries([...ok.headers].filter(([k]) => k.startsWith('access-control-')))).toEqual({
      'access-control-allow-origin': UI_ORIGIN,
      'access-control-allow-credentials': 'true',
      'access-control-allow-methods': 'POST',
      'access-control-allow-headers': 'authorization, content-type, x-namespace',
      'access-control-max-age': '600',
    });
    for (const refused of [
      await preflight('https://evil.example'),
      await preflight('http://localhost:8234'),
      await preflight(UI_ORIGIN, 'DELETE'),
      await preflight(UI_ORIGIN, 'POST', 'x-evil'),
    ]) {
      expect(refused.status).toBe(403);
      expect(refused.headers.get('access-control-allow-origin')).toBeNull();
    }
  });

  it('refuses callers who may not read every case, and callers without a token', async () => {
    const body = { payloads: sealed.map(asJson) };
    expect((await call('/codec/decode', { json: body, origin: UI_ORIGIN })).status).toBe(401);
    expect((await call('/codec/decode', { token: 'gov_nonsense', json: body })).status).toBe(401);
    for (const as of ['manager', 'owner', 'legal', 'admin'] as const) {
      const res = await call('/codec/decode', { as, json: body, origin: UI_ORIGIN });
      expect(res.status, as).toBe(403);
      expect(res.body.error.code).toBe('FORBIDDEN');
      // The browser may read the refusal; it carries nothing of the payloads.
      expect(JSON.stringify(res.body)).not.toContain(PERSON);
    }
  });

  it('leaves a clear payload as it is and a tampered one sealed; names bad fields', async () => {
    const clear = defaultPayloadConverter.toPayload({ shown: 'as is' });
    const tampered = { ...sealed[0]!, data: Buffer.from(sealed[0]!.data!).map((b, i) => (i === 20 ? b ^ 1 : b)) };
    const res = await call('/codec/decode', { as: 'approver', json: { payloads: [clear, tampered].map(asJson) } });
    expect(res.status).toBe(200);
    expect(res.body.payloads).toEqual([clear, tampered].map(asJson));

    const bad = await call('/codec/decode', { as: 'approver', json: { payloads: [{ data: 'not base64!' }] } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.fields).toEqual([{ field: 'body.payloads.0.data', message: 'is not base64' }]);
    expect((await call('/codec/decode', { as: 'approver', json: { payload: [] } })).status).toBe(400);
  });

  it('encodes for admins only, into payloads the worker opens', async () => {
    const value = { note: 'sealed by the codec server' };
    const body = { payloads: [asJson(defaultPayloadConverter.toPayload(value))] };
    expect((await call('/codec/encode', { as: 'approver', json: body })).status).toBe(403);
    const res = await call('/codec/encode', { as: 'admin', json: body });
    expect(res.status).toBe(200);
    const [encoded] = res.body.payloads.map(fromJson) as Payload[];
    expect(Buffer.from(encoded!.metadata!.encoding!).toString()).toBe(ENCRYPTED_ENCODING);
    const [opened] = await codecFor({ codecKeys: TEST_CODEC_KEYS })!.decode([encoded!]);
    expect(defaultPayloadConverter.fromPayload(opened!)).toEqual(value);
  });

  it('audits every decode and encode: who, how many, which namespace — never what', async () => {
    const events = await h.sql(
      `select actor_id, action, payload from audit_events where action like 'codec.%' order by seq offset $1`,
      [auditBefore],
    );
    // Auditors' readings are checked by their own test above.
    const decoded = events.filter((e) => e.action === 'codec.decoded' && e.actor_id !== 'auditor');
    // Three oversight readers and one call from another origin, then the clear-and-tampered call.
    expect(decoded.map((e) => e.actor_id)).toEqual(['appr1', 'appr2', 'ia1', 'appr1', 'appr1']);
    expect(decoded[0].payload).toMatchObject({ namespace: 'default', payloads: sealed.length, undecoded: 0 });
    expect(decoded.at(-1).payload).toMatchObject({ payloads: 2, undecoded: 1 });
    expect(events.filter((e) => e.action === 'codec.encoded').map((e) => e.actor_id)).toEqual(['admin']);
    expect(JSON.stringify(events)).not.toContain(PERSON);
  });
});
