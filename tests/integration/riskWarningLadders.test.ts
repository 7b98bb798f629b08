/**
 * The timer ladders of the three warning levels (三级预警, issue 12 §3), as
 * the workflow runs them: the real workflow bundle on the real Temporal dev
 * server, with fake activity deps that record when each activity ran.
 * Beside the whole-stack tests (./riskWarnings.test.ts,
 * ./riskWarningGaps.test.ts), which prove the same paths through the API
 * and PostgreSQL.
 *
 * Not on the time-skipping environment: TestWorkflowEnvironment.createTimeSkipping
 * needs the Java test server, which the SDK downloads at first use, and
 * these machines cannot download it ("failed to download ephemeral server
 * executable … dns error"). So the policy's deadlines are set in seconds
 * here (warnings.acknowledgeWithin: the ladder reminds at half of it,
 * escalates at it, marks overdue at twice it; domain/warnings.ts
 * responseLadder) and the rungs are timed on the wall clock.
 */
import { randomUUID } from 'node:crypto';
import type { Client, Connection } from '@temporalio/client';
import { DefaultLogger, Runtime, Worker, type NativeConnection } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ExistingIncident } from '../../activities/risks';
import { riskWarningContract } from '../../contracts/riskWarning';
import { DEFAULT_POLICY, type PolicySnapshot, type PolicyValues } from '../../domain/policy';
import type { WarningLevel } from '../../domain/warnings';
import { connectClient, connectWorker } from '../../platform/temporalConnection';
import type { RiskWarningInput } from '../../workflows/riskWarning';
import { TEST_CODEC_KEYS, testDataConverter } from '../support/codecKeys';
import { eventually } from '../support/harness';

/** One activity the workflow ran: its name, its input, when (ms since the case started) and its wall-clock time. */
interface Call {
  name: string;
  input: any;
  at: number;
  wall: number;
}

/** The fake deps of one case, by workflow id: what it called, and what the read model would answer. */
interface FakeCase {
  startedAt: number;
  calls: Call[];
  existingIncident: ExistingIncident | null;
  /** What caseStatus answers for the joined incident, in turn; the last answer repeats. */
  incidentStatuses: string[];
}

const fakes = new Map<string, FakeCase>();
const settings = { temporalNamespace: 'default', codecKeys: TEST_CODEC_KEYS };
const taskQueue = `risk-ladders-${randomUUID().slice(0, 8)}`;
let connection: Connection;
let client: Client;
let nativeConnection: NativeConnection;
let worker: Worker;
let workerRun: Promise<void>;
const running = new Set<string>();

function fakeOf(caseId: string): FakeCase {
  let fake = fakes.get(caseId);
  if (!fake) {
    fake = { startedAt: Date.now(), calls: [], existingIncident: null, incidentStatuses: ['open'] };
    fakes.set(caseId, fake);
  }
  return fake;
}

/** Records the call under the case it concerns (the warning, or the incident it opened). */
function record(name: string, caseId: string, input: unknown): FakeCase {
  const fake = fakeOf(caseId);
  fake.calls.push({ name, input, at: Date.now() - fake.startedAt, wall: Date.now() });
  return fake;
}

/** The activities riskWarningWorkflow (and an incident it opens) calls, as in-memory fakes. */
const fakeActivities = {
  async openCase(input: { caseId: string }) {
    record('openCase', input.caseId, input);
  },
  async changeCase(input: { caseId: string }) {
    record('changeCase', input.caseId, input);
  },
  async openTask(input: { caseId: string }) {
    record('openTask', input.caseId, input);
  },
  async changeTask(input: { caseId: string }) {
    record('changeTask', input.caseId, input);
  },
  async notify(input: { caseId: string }) {
    record('notify', input.caseId, input);
  },
  async currentPolicy(): Promise<PolicySnapshot> {
    return { version: 1, values: DEFAULT_POLICY };
  },
  async findPriorIncidents() {
    return [];
  },
  async linkIncidentToWarning(input: { warningCaseId: string }) {
    record('linkIncidentToWarning', input.warningCaseId, input);
  },
  async findIncidentForWarning(input: { incidentCaseId: string }) {
    // Keyed by the warning: the fake of the case whose incident id this is.
    const warning = [...fakes.entries()].find(([id]) => input.incidentCaseId.endsWith(id.split(':').pop()!));
    if (!warning) return null;
    record('findIncidentForWarning', warning[0], input);
    return warning[1].existingIncident;
  },
  async linkWarningToIncident(input: { warningCaseId: string }) {
    record('linkWarningToIncident', input.warningCaseId, input);
  },
  async caseStatus(input: { caseId: string }) {
    const warning = [...fakes.entries()].find(([, f]) => f.existingIncident?.caseId === input.caseId);
    if (!warning) return null;
    const fake = record('caseStatus', warning[0], input);
    const asked = fake.calls.filter((c) => c.name === 'caseStatus').length;
    const status = fake.incidentStatuses[Math.min(asked - 1, fake.incidentStatuses.length - 1)]!;
    return { status, outcome: status === 'closed' ? 'closed_out' : null };
  },
};

beforeAll(async () => {
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    /* installed by another file in this process */
  }
  const address = inject('temporalAddress');
  ({ connection, client } = await connectClient(address, settings));
  nativeConnection = await connectWorker(address, settings);
  worker = await Worker.create({
    connection: nativeConnection,
    namespace: 'default',
    taskQueue,
    workflowBundle: { codePath: inject('workflowBundlePath') },
    dataConverter: testDataConverter,
    activities: fakeActivities,
  });
  workerRun = worker.run();
});

afterAll(async () => {
  for (const id of running) {
    await client.workflow
      .getHandle(id)
      .terminate('risk warning ladders test: done')
      .catch(() => undefined);
  }
  if (worker?.getState() === 'RUNNING') worker.shutdown();
  await workerRun?.catch(() => undefined);
  await nativeConnection?.close();
  await connection?.close();
});

/** The default policy with the warning deadlines of the test, in seconds. */
function policyWith(warnings: Partial<PolicyValues['warnings']>): PolicySnapshot {
  return { version: 7, values: { ...DEFAULT_POLICY, warnings: { ...DEFAULT_POLICY.warnings, ...warnings } } };
}

const ACK_WITHIN = { general: '4s', elevated: '6s', major: '1h' };

async function raise(
  level: WarningLevel,
  options: {
    policy?: PolicySnapshot;
    riskKey?: string;
    existingIncident?: ExistingIncident;
    statuses?: string[];
    timings?: RiskWarningInput['timings'];
  } = {},
) {
  const alertKey = `A${randomUUID().slice(0, 8)}`;
  const kriKey = 'KRI-ladder';
  const caseId = riskWarningContract.caseId(`${kriKey}:${alertKey}`);
  const fake = fakeOf(caseId);
  fake.existingIncident = options.existingIncident ?? null;
  if (options.statuses) fake.incidentStatuses = options.statuses;
  const input: RiskWarningInput = {
    caseId,
    warningKey: `${kriKey}:${alertKey}`,
    kriKey,
    kriName: 'Refund requests per hour',
    direction: 'above',
    thresholds: { general: 10, elevated: 20, major: 30 },
    alertKey,
    value: level === 'general' ? 12 : level === 'elevated' ? 25 : 31,
    observedAt: new Date().toISOString(),
    levelReached: level,
    level,
    repeatOf: [],
    ownerId: 'mgr',
    ...(options.riskKey ? { riskKey: options.riskKey } : {}),
    raisedBy: 'monitor',
    policy: options.policy ?? policyWith({ acknowledgeWithin: ACK_WITHIN }),
    ...(options.timings ? { timings: options.timings } : {}),
  };
  fake.startedAt = Date.now();
  const handle = await client.workflow.start('riskWarningWorkflow', {
    taskQueue,
    workflowId: caseId,
    args: [input],
  });
  running.add(caseId);
  return { caseId, alertKey, handle, fake };
}

const notices = (fake: FakeCase) =>
  fake.calls
    .filter((c) => c.name === 'notify')
    .map((c) => ({ kind: c.input.kind as string, wall: c.wall, input: c.input }));
const taskChanges = (fake: FakeCase) =>
  fake.calls.filter((c) => c.name === 'changeTask').map((c) => ({ action: c.input.action as string, wall: c.wall }));

/**
 * When the ladder of a wait started, by the workflow's clock: the task's due
 * date is that instant plus the escalation delay (workflows/shared/humanSteps.ts).
 * Measured from here, not from the start call: a worker's first activation may
 * be seconds late on a busy machine, and the ladder starts when the task opens.
 */
function ladderOrigin(fake: FakeCase, taskId: string, escalateAfterSeconds: number): number {
  const opened = fake.calls.find((c) => c.name === 'openTask' && c.input.taskId === taskId);
  expect(opened, `task ${taskId} opened`).toBeDefined();
  return Date.parse(opened!.input.dueAt) - escalateAfterSeconds * 1000;
}

/**
 * The rung fired at the policy's time after the ladder's origin: never
 * before it, and within the slack a 2-core machine shared with other test
 * runs needs (a timer fires on time, but its activation and the notify
 * activity queue behind other work). The exact times are pinned by what the
 * notices say (deadlineIn).
 */
function expectAt(wall: number | undefined, origin: number, seconds: number) {
  expect(wall, `a rung due at ${seconds}s`).toBeDefined();
  expect(wall! - origin).toBeGreaterThanOrEqual(seconds * 1000 - 150);
  expect(wall! - origin).toBeLessThan(seconds * 1000 + 5000);
}

/** The deadline a notice names (the reminder: the escalation's; the escalation: the final one), by the workflow's clock. */
function deadlineOf(notice: { input: { message: string } } | undefined): number {
  const iso = notice?.input.message.match(/\d{4}-\d\d-\d\dT[\d:.]+Z/)?.[0];
  expect(iso, notice?.input.message).toBeDefined();
  return Date.parse(iso!);
}

/**
 * When the ladder started by the workflow's clock, from the escalation time
 * the reminder names; checked against the task's opening (the ladder starts
 * once the task row is written, an activity later).
 */
function ladderStart(
  reminder: { input: { message: string } } | undefined,
  origin: number,
  escalateAfterSeconds: number,
) {
  const start = deadlineOf(reminder) - escalateAfterSeconds * 1000;
  expect(start - origin).toBeGreaterThanOrEqual(0);
  expect(start - origin).toBeLessThan(3000);
  return start;
}

/** The refusal an Update was rejected with (its validator's ApplicationFailure, under WorkflowUpdateFailedError). */
async function refusalOf(update: Promise<unknown>): Promise<{ type?: string; message?: string }> {
  try {
    await update;
  } catch (err) {
    const cause = (err as { cause?: { type?: string; message?: string } }).cause;
    return { type: cause?.type, message: cause?.message };
  }
  throw new Error('the update was not refused');
}

const owner = { userId: 'mgr', roles: ['manager' as const] };

describe('general (一般): the owner acknowledges within warnings.acknowledgeWithin', () => {
  it('reminds the owner at half the deadline, escalates at it, and marks it overdue and still owed at twice it', async () => {
    const { caseId, handle, fake } = await raise('general');
    // The file's first case: the worker's first activation may come late on a busy machine.
    await eventually(async () => taskChanges(fake).some((t) => t.action === 'task.overdue'), 30_000);
    const byKind = Object.fromEntries(notices(fake).map((n) => [n.kind, n]));
    const start = ladderStart(byKind.reminder, ladderOrigin(fake, `${caseId}:acknowledgement`, 4), 4);
    expectAt(byKind.reminder?.wall, start, 2);
    expect(byKind.reminder!.input).toMatchObject({ recipientId: 'mgr', taskId: `${caseId}:acknowledgement` });
    expectAt(byKind.escalation?.wall, start, 4);
    // The owner's manager hears of it: one role up from the owner's (domain/roles.ts ESCALATION_ROLE).
    expect(byKind.escalation!.input).toMatchObject({ recipientRole: 'manager' });
    expectAt(byKind.overdue?.wall, start, 8);
    // By the workflow's clock, exactly the policy's times: the final deadline at twice the deadline.
    expect(deadlineOf(byKind.escalation) - start).toBe(8000);
    expect(taskChanges(fake).map((t) => t.action)).toEqual(['task.reminded', 'task.escalated', 'task.overdue']);

    // Overdue is not the end: the acknowledgement is still owed, and taking it moves the warning on.
    const ack = await handle.executeUpdate(riskWarningContract.steps.acknowledge.update, {
      args: [{ actor: owner, note: 'late, but seen' }],
    });
    expect((ack as { stage: string }).stage).toBe('review');
    expect(taskChanges(fake).map((t) => t.action)).toContain('task.done');
    const opened = fake.calls.filter((c) => c.name === 'openTask').map((c) => c.input.taskId);
    expect(opened).toEqual([`${caseId}:acknowledgement`, `${caseId}:review`]);
  });

  it('an acknowledgement after the reminder stops the ladder: no escalation, no overdue', async () => {
    // A deadline of 8s: the acknowledgement has the 4s between reminder and escalation to land, under load too.
    const { caseId, handle, fake } = await raise('general', {
      policy: policyWith({ acknowledgeWithin: { ...ACK_WITHIN, general: '8s' } }),
    });
    await eventually(async () => notices(fake).some((n) => n.kind === 'reminder'), 10_000);
    const ack = await handle.executeUpdate(riskWarningContract.steps.acknowledge.update, { args: [{ actor: owner }] });
    expect((ack as { stage: string }).stage).toBe('review');
    const origin = ladderOrigin(fake, `${caseId}:acknowledgement`, 8);
    expect(Date.now() - origin).toBeLessThan(8000);
    // Past where the escalation (8s) would have fired; the overdue mark comes only after it.
    await new Promise((r) => setTimeout(r, origin + 9000 - Date.now()));
    const ladder = notices(fake).filter((n) => n.input.taskId === `${caseId}:acknowledgement`);
    expect(ladder.map((n) => n.kind)).toEqual(['reminder']);
    expect(taskChanges(fake).map((t) => t.action)).toEqual(['task.reminded', 'task.done']);
  });

  it('the policy sets the times: a longer deadline moves every rung', async () => {
    const { caseId, fake } = await raise('general', {
      policy: policyWith({ acknowledgeWithin: { ...ACK_WITHIN, general: '6s' } }),
    });
    await eventually(async () => notices(fake).some((n) => n.kind === 'escalation'), 15_000);
    const byKind = Object.fromEntries(notices(fake).map((n) => [n.kind, n]));
    const start = ladderStart(byKind.reminder, ladderOrigin(fake, `${caseId}:acknowledgement`, 6), 6);
    expectAt(byKind.reminder?.wall, start, 3);
    expectAt(byKind.escalation?.wall, start, 6);
    expect(deadlineOf(byKind.escalation) - start).toBe(12000);
  });
});

describe('elevated (较高): a manager’s response plan, escalated if it is not in', () => {
  it('reminds the owner at half the deadline and escalates one role up from manager at it', async () => {
    const { caseId, fake } = await raise('elevated');
    await eventually(async () => notices(fake).some((n) => n.kind === 'escalation'), 15_000);
    const byKind = Object.fromEntries(notices(fake).map((n) => [n.kind, n]));
    const start = ladderStart(byKind.reminder, ladderOrigin(fake, `${caseId}:response-plan`, 6), 6);
    expectAt(byKind.reminder?.wall, start, 3);
    expect(byKind.reminder!.input).toMatchObject({ recipientId: 'mgr', taskId: `${caseId}:response-plan` });
    expectAt(byKind.escalation?.wall, start, 6);
    expect(deadlineOf(byKind.escalation) - start).toBe(12000);
    expect(byKind.escalation!.input).toMatchObject({ recipientRole: 'admin' });
    const opened = fake.calls.find((c) => c.name === 'openTask')!.input;
    expect(opened).toMatchObject({ assigneeId: 'mgr', candidateRoles: ['manager'] });
  });

  it('a plan before the deadline stops the ladder, and the planner may not review it', async () => {
    const { caseId, handle, fake } = await raise('elevated');
    await eventually(async () => notices(fake).some((n) => n.kind === 'reminder'), 10_000);
    const plan = await handle.executeUpdate(riskWarningContract.steps.responsePlan.update, {
      args: [{ actor: { userId: 'lead', roles: ['manager'] }, plan: 'Throttle refunds over 5 000 CNY' }],
    });
    expect((plan as { stage: string }).stage).toBe('review');
    const origin = ladderOrigin(fake, `${caseId}:response-plan`, 6);
    expect(Date.now() - origin).toBeLessThan(6000);
    await new Promise((r) => setTimeout(r, origin + 6800 - Date.now()));
    expect(
      notices(fake)
        .filter((n) => n.input.taskId === `${caseId}:response-plan`)
        .map((n) => n.kind),
    ).toEqual(['reminder']);
    const refused = await refusalOf(
      handle.executeUpdate(riskWarningContract.steps.review.update, {
        args: [{ actor: { userId: 'lead', roles: ['manager', 'risk'] }, conclusion: 'fine' }],
      }),
    );
    expect(refused.type).toBe('SEGREGATION_OF_DUTIES');
    expect(refused.message).toMatch(/segregation of duties/);
  });
});

describe('major (重大): an incident at the policy’s grade', () => {
  it('opens the incident at warnings.majorIncidentGrade as a child case, links it, and waits for it', async () => {
    const { caseId, alertKey, handle, fake } = await raise('major', {
      policy: policyWith({ acknowledgeWithin: ACK_WITHIN, majorIncidentGrade: 'I' }),
    });
    const incidentCaseId = `incident:WARN-${alertKey}`;
    running.add(incidentCaseId);
    await eventually(async () => fake.calls.some((c) => c.name === 'linkIncidentToWarning'), 15_000);
    // The incident opened at the policy's grade (I here, not the default II).
    const incidentOpen = fakes.get(incidentCaseId)?.calls.find((c) => c.name === 'openCase');
    expect(incidentOpen?.input.data).toMatchObject({ grade: 'I' });
    expect(fake.calls.find((c) => c.name === 'linkIncidentToWarning')!.input).toEqual({
      incidentCaseId,
      warningCaseId: caseId,
    });
    const described = await client.workflow.getHandle(incidentCaseId).describe();
    expect(described.raw.workflowExecutionInfo?.parentExecution?.workflowId).toBe(caseId);
    // It looked for an incident already there first, and found none.
    expect(fake.calls.find((c) => c.name === 'findIncidentForWarning')!.input).toEqual({
      incidentCaseId,
      riskKey: null,
    });
    // The review waits for the incident's whole response.
    const early = await refusalOf(
      handle.executeUpdate(riskWarningContract.steps.review.update, {
        args: [{ actor: { userId: 'appr1', roles: ['risk'] }, conclusion: 'too early' }],
      }),
    );
    expect(early.type).toBe('WRONG_STAGE');
    await client.workflow.getHandle(incidentCaseId).terminate('ended by the test');
    running.delete(incidentCaseId);
    await eventually(async () =>
      fake.calls.some((c) => c.name === 'openTask' && c.input.taskId === `${caseId}:review`),
    );
  });

  it('joins an incident already open for its risk: linked, no second incident, reviewed once it closes', async () => {
    const existing: ExistingIncident = {
      caseId: 'incident:INC-EARLIER',
      incidentId: 'INC-EARLIER',
      status: 'open',
      grade: 'II',
      matchedBy: 'risk',
    };
    const { caseId, alertKey, handle, fake } = await raise('major', {
      riskKey: 'RISK-REFUNDS',
      existingIncident: existing,
      statuses: ['open', 'open', 'closed'],
      // Checked at once, then 1s and 2s later (doubling from timings.incidentWatch).
      timings: { incidentWatch: '1s' },
    });
    await eventually(async () => fake.calls.filter((c) => c.name === 'caseStatus').length >= 3, 20_000);
    const checks = fake.calls.filter((c) => c.name === 'caseStatus').map((c) => c.at);
    expect(checks[1]! - checks[0]!).toBeGreaterThanOrEqual(950);
    expect(checks[2]! - checks[1]!).toBeGreaterThanOrEqual(1950);
    expect(fake.calls.find((c) => c.name === 'findIncidentForWarning')!.input).toEqual({
      incidentCaseId: `incident:WARN-${alertKey}`,
      riskKey: 'RISK-REFUNDS',
    });
    expect(fake.calls.find((c) => c.name === 'linkWarningToIncident')!.input).toEqual({
      warningCaseId: caseId,
      incidentCaseId: existing.caseId,
      matchedBy: 'risk',
    });
    // No incident of its own: no child, nothing started under WARN-<alertKey>.
    expect(fakes.has(`incident:WARN-${alertKey}`)).toBe(false);
    expect(fake.calls.some((c) => c.name === 'linkIncidentToWarning')).toBe(false);
    const joined = fake.calls.find((c) => c.name === 'changeCase' && c.input.action === 'warning.incident_joined');
    expect(joined!.input.payload).toEqual({ incidentCaseId: existing.caseId, matchedBy: 'risk', grade: 'II' });
    // Closed: the warning goes to its review, which closes it.
    await eventually(async () =>
      fake.calls.some((c) => c.name === 'openTask' && c.input.taskId === `${caseId}:review`),
    );
    const reviewed = await handle.executeUpdate(riskWarningContract.steps.review.update, {
      args: [{ actor: { userId: 'appr1', roles: ['risk'] }, conclusion: 'Handled within INC-EARLIER' }],
    });
    expect((reviewed as { stage: string }).stage).toBe('closed');
    expect(await handle.result()).toEqual({ outcome: 'resolved' });
    running.delete(caseId);
  });
});
