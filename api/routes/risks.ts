/**
 * The risk register (风险清单, e-commerce §1.2; finance §5.1–5.2): risks with
 * their category, cause, consequence, owner and line of defence, inherent and
 * residual ratings whose levels are always computed (never given), controls
 * with their tests, links to the cases that touch them, and acceptances.
 *
 * Every change of a risk writes a new version (risk_versions) and its audit
 * event in one transaction, so the register can be read as of any instant
 * (?asOf=). A risk acceptance is never an edit: it is a case of its own
 * (workflows/riskAcceptance.ts) that the register tells when the residual
 * rating changes.
 */
import { randomUUID } from 'node:crypto';
import { createRoute, z } from '@hono/zod-openapi';
import { and, asc, count, desc, eq, inArray, lte } from 'drizzle-orm';
import {
  RISK_ACCEPTANCE_PROCESS,
  RISK_ACCEPTANCE_STAGE,
  riskAcceptanceContract,
  riskAcceptanceKey,
} from '../../contracts/riskAcceptance';
import { withAuditedWrite } from '../../db/audit';
import {
  auditEvents,
  cases,
  riskAcceptances,
  riskControls,
  riskControlTests,
  riskLinks,
  risks,
  riskVersions,
  users,
  type RiskRow,
} from '../../db/schema';
import type { PolicyValues } from '../../domain/policy';
import { RISK_LEVELS } from '../../domain/risk';
import {
  aboveAppetite,
  acceptanceApprovalsRequired,
  acceptanceExpiryProblem,
  changedFields,
  CONTROL_FREQUENCIES,
  CONTROL_TEST_RESULTS,
  CONTROL_TESTER_ROLES,
  controlTestRefusal,
  editRefusal,
  LINE_OF_DEFENCE_LABELS,
  LINES_OF_DEFENCE,
  rate,
  ratingProblem,
  RECORDABLE_TEST_RESULTS,
  residualChanged,
  RISK_CATEGORIES,
  RISK_CATEGORY_LABELS,
  RISK_EDITOR_ROLES,
  RISK_KEY_PATTERN,
  type RiskValues,
} from '../../domain/riskRegister';
import { startCaseWorkflow } from '../../platform/cases';
import { changeRisk, createRisk, RiskChangedMeanwhile, riskValuesOf, tellAcceptances } from '../../platform/risks';
import { currentPolicy } from '../../platform/policy';
import { inIdempotentRequest, newKeySuffix } from '../../platform/idempotentCalls';
import type { riskAcceptanceWorkflow } from '../../workflows/riskAcceptance';
import { requireRole } from '../auth';
import { refuseLockedTimings } from '../caseTimings';
import { temporalUiLink } from '../dto';
import { ApiError } from '../errors';
import { ApprovalTimingsSchema, PageQuerySchema } from '../schemas';
import { approvalTimingsProblem } from './supplierReviews';
import { bearer, errorResponses, requireActiveUser, router, type AppDeps } from './common';

const text = (max: number) => z.string().trim().min(1).max(max);
const score = z.number().int().min(1).max(5);
const RatingSchema = z
  .object({
    probability: score.openapi({ description: '发生概率 1–5' }),
    impact: score.openapi({ description: '影响程度 1–5' }),
  })
  .strict();
const isoInstant = z.iso.datetime({ offset: true });

const RiskFields = {
  title: text(200).openapi({ example: 'Payment gateway outage during peak sales' }),
  category: z.enum(RISK_CATEGORIES).openapi({
    description:
      'e-commerce §1.2: technical, operational, legal, compliance, user; finance §5.1: credit, market, liquidity',
  }),
  description: text(5000),
  cause: text(2000).openapi({ description: '风险成因' }),
  consequence: text(2000).openapi({ description: '风险后果' }),
  ownerId: z.string().min(1).max(64).openapi({ description: 'the risk owner (a user)' }),
  lineOfDefence: z.enum(LINES_OF_DEFENCE).openapi({ description: 'finance §5.2 三道防线' }),
  inherent: RatingSchema.openapi({ description: 'before controls (固有风险)' }),
  residual: RatingSchema.openapi({ description: 'after controls (剩余风险); may not exceed the inherent score' }),
};

const CreateRiskSchema = z
  .object({
    riskKey: z
      .string()
      .regex(RISK_KEY_PATTERN, 'RISK- then upper-case letters, digits, "_" or "-"')
      .optional()
      .openapi({ description: 'the register key; generated when omitted', example: 'RISK-PAY-001' }),
    ...RiskFields,
  })
  .strict()
  .openapi('CreateRisk');

const PatchRiskSchema = z
  .object({
    title: RiskFields.title.optional(),
    category: RiskFields.category.optional(),
    description: RiskFields.description.optional(),
    cause: RiskFields.cause.optional(),
    consequence: RiskFields.consequence.optional(),
    ownerId: RiskFields.ownerId.optional(),
    lineOfDefence: RiskFields.lineOfDefence.optional(),
    inherent: RatingSchema.optional(),
    residual: RatingSchema.optional(),
    reason: text(2000).openapi({ description: 'why it changes: the version and the audit trail keep it' }),
  })
  .strict()
  .openapi('PatchRisk');

const ComputedRatingSchema = z.object({
  probability: z.number().int(),
  impact: z.number().int(),
  score: z.number().int(),
  level: z.enum(RISK_LEVELS),
});

const AcceptanceSchema = z
  .object({
    caseId: z.string(),
    status: z.string(),
    reason: z.string(),
    requestedBy: z.string(),
    expiresAt: z.string(),
    residual: z.object({ probability: z.number().int(), impact: z.number().int(), level: z.string() }),
    approvedBy: z.array(z.string()).nullable(),
    approvedAt: z.string().nullable(),
    staleReason: z.string().nullable(),
    staleAt: z.string().nullable(),
    reviewDue: z.string().nullable(),
  })
  .openapi('RiskAcceptance');

const ControlSchema = z
  .object({
    id: z.string(),
    title: z.string(),
    description: z.string().nullable(),
    ownerId: z.string(),
    frequency: z.enum(CONTROL_FREQUENCIES),
    lastTest: z.object({
      result: z.enum(CONTROL_TEST_RESULTS),
      testedBy: z.string().nullable(),
      testedAt: z.string().nullable(),
      note: z.string().nullable(),
    }),
  })
  .openapi('RiskControl');

const LinkSchema = z
  .object({
    caseId: z.string(),
    process: z.string(),
    title: z.string(),
    stage: z.string(),
    status: z.string(),
    linkedBy: z.string(),
    linkedAt: z.string(),
  })
  .openapi('RiskLink');

const RiskSchema = z
  .object({
    key: z.string(),
    title: z.string(),
    category: z.enum(RISK_CATEGORIES),
    categoryLabel: z.object({ en: z.string(), zh: z.string() }),
    description: z.string(),
    cause: z.string(),
    consequence: z.string(),
    ownerId: z.string(),
    lineOfDefence: z.enum(LINES_OF_DEFENCE),
    lineOfDefenceLabel: z.object({ en: z.string(), zh: z.string() }),
    inherent: ComputedRatingSchema,
    residual: ComputedRatingSchema,
    appetite: z
      .number()
      .int()
      .openapi({ description: 'policy riskRegister.appetite[category]: the highest residual score tolerated' }),
    aboveAppetite: z.boolean(),
    version: z.number().int(),
    validFrom: z.string(),
    policyVersion: z
      .number()
      .int()
      .openapi({ description: 'the policy whose cut-offs and appetite computed the levels' }),
    acceptance: AcceptanceSchema.nullable().openapi({
      description: 'the latest acceptance (as of a past instant: the latest asked for by then, with its status then)',
    }),
    controls: z.array(ControlSchema).optional(),
    links: z.array(LinkSchema).optional(),
  })
  .openapi('Risk');

const RiskKeyParam = z.object({ riskKey: z.string().regex(RISK_KEY_PATTERN, 'a register key RISK-…') });
const AsOfQuery = z.object({
  asOf: isoInstant.optional().openapi({ description: 'read the register as it stood at this instant' }),
});
const booleanQuery = z.enum(['true', 'false']).transform((v) => v === 'true');

interface RegisterEntry {
  key: string;
  values: RiskValues;
  version: number;
  validFrom: Date;
}

const valuesOf = riskValuesOf;

type AcceptanceRow = typeof riskAcceptances.$inferSelect;

/** The audit events that set an acceptance's status (activities/risks.ts), and the status each sets. */
const ACCEPTANCE_STATUS_EVENTS = new Map<string, string>([
  ['risk.acceptance_requested', 'requested'],
  ['risk.acceptance_approved', 'active'],
  ['risk.acceptance_cancelled', 'cancelled'],
  ['risk.acceptance_rejected', 'rejected'],
  ['risk.acceptance_lapsed', 'lapsed'],
  ['risk.acceptance_stale', 'stale'],
]);
const iso = (d: Date | null) => (d ? d.toISOString() : null);

function acceptanceDto(row: AcceptanceRow) {
  return {
    caseId: row.caseId,
    status: row.status,
    reason: row.reason,
    requestedBy: row.requestedBy,
    expiresAt: row.expiresAt.toISOString(),
    residual: { probability: row.residualProbability, impact: row.residualImpact, level: row.residualLevel },
    approvedBy: row.approvedBy,
    approvedAt: iso(row.approvedAt),
    staleReason: row.staleReason,
    staleAt: iso(row.staleAt),
    reviewDue: iso(row.reviewDue),
  };
}

function riskDto(entry: RegisterEntry, policy: { version: number; values: PolicyValues }, acceptance?: AcceptanceRow) {
  const { values } = entry;
  const cutoffs = policy.values.risk;
  const appetite = policy.values.riskRegister.appetite;
  return {
    key: entry.key,
    ...values,
    categoryLabel: RISK_CATEGORY_LABELS[values.category],
    lineOfDefenceLabel: LINE_OF_DEFENCE_LABELS[values.lineOfDefence],
    inherent: rate(values.inherent, cutoffs),
    residual: rate(values.residual, cutoffs),
    appetite: appetite[values.category],
    aboveAppetite: aboveAppetite(values.category, values.residual, appetite),
    version: entry.version,
    validFrom: entry.validFrom.toISOString(),
    policyVersion: policy.version,
    acceptance: acceptance ? acceptanceDto(acceptance) : null,
  };
}

export function riskRoutes({ db, temporal, settings }: AppDeps) {
  const app = router();

  /** The register now (the risks table) or as of an instant (each risk's latest version by then). */
  async function register(asOf?: string, key?: string): Promise<RegisterEntry[]> {
    if (!asOf) {
      const rows = await db
        .select()
        .from(risks)
        .where(key ? eq(risks.key, key) : undefined)
        .orderBy(asc(risks.key));
      return rows.map((r) => ({ key: r.key, values: valuesOf(r), version: r.version, validFrom: r.updatedAt }));
    }
    const rows = await db
      .selectDistinctOn([riskVersions.riskKey])
      .from(riskVersions)
      .where(and(lte(riskVersions.validFrom, new Date(asOf)), key ? eq(riskVersions.riskKey, key) : undefined))
      .orderBy(asc(riskVersions.riskKey), desc(riskVersions.version));
    return rows.map((r) => ({
      key: r.riskKey,
      values: r.values as unknown as RiskValues,
      version: r.version,
      validFrom: r.validFrom,
    }));
  }

  /** Each risk's latest acceptance. */
  async function latestAcceptances(keys: string[]): Promise<Map<string, AcceptanceRow>> {
    if (keys.length === 0) return new Map();
    const rows = await db
      .selectDistinctOn([riskAcceptances.riskKey])
      .from(riskAcceptances)
      .where(inArray(riskAcceptances.riskKey, keys))
      .orderBy(asc(riskAcceptances.riskKey), desc(riskAcceptances.sequence));
    return new Map(rows.map((r) => [r.riskKey, r]));
  }

  /**
   * Each risk's acceptance as it stood at an instant: the latest one asked
   * for by then, with the status its audit events had given it by then
   * (requested, active, stale…), and its approval and staleness only if they
   * had happened.
   */
  async function acceptancesAsOf(keys: string[], at: Date): Promise<Map<string, AcceptanceRow>> {
    if (keys.length === 0) return new Map();
    const rows = await db
      .selectDistinctOn([riskAcceptances.riskKey])
      .from(riskAcceptances)
      .where(and(inArray(riskAcceptances.riskKey, keys), lte(riskAcceptances.requestedAt, at)))
      .orderBy(asc(riskAcceptances.riskKey), desc(riskAcceptances.sequence));
    if (rows.length === 0) return new Map();
    const events = await db
      .selectDistinctOn([auditEvents.caseId], { caseId: auditEvents.caseId, action: auditEvents.action })
      .from(auditEvents)
      .where(
        and(
          inArray(
            auditEvents.caseId,
            rows.map((r) => r.caseId),
          ),
          inArray(auditEvents.action, [...ACCEPTANCE_STATUS_EVENTS.keys()]),
          lte(auditEvents.occurredAt, at),
        ),
      )
      .orderBy(asc(auditEvents.caseId), desc(auditEvents.occurredAt), desc(auditEvents.seq));
    const statusThen = new Map(events.map((e) => [e.caseId, ACCEPTANCE_STATUS_EVENTS.get(e.action)!]));
    const happened = (d: Date | null) => d !== null && d.getTime() <= at.getTime();
    return new Map(
      rows.map((r) => [
        r.riskKey,
        {
          ...r,
          status: statusThen.get(r.caseId) ?? 'requested',
          ...(happened(r.approvedAt) ? {} : { approvedBy: null, approvedAt: null }),
          ...(happened(r.staleAt) ? {} : { staleReason: null, staleAt: null, reviewDue: null }),
        },
      ]),
    );
  }

  /** Each control's latest test by an instant (controls not tested by then: none). */
  async function lastTestsAsOf(riskKey: string, at: Date) {
    const rows = await db
      .selectDistinctOn([riskControlTests.controlId], {
        controlId: riskControlTests.controlId,
        result: riskControlTests.result,
        note: riskControlTests.note,
        testedBy: riskControlTests.testedBy,
        testedAt: riskControlTests.testedAt,
      })
      .from(riskControlTests)
      .innerJoin(riskControls, eq(riskControls.id, riskControlTests.controlId))
      .where(and(eq(riskControls.riskKey, riskKey), lte(riskControlTests.testedAt, at)))
      .orderBy(asc(riskControlTests.controlId), desc(riskControlTests.testedAt));
    return new Map(rows.map((r) => [r.controlId, r]));
  }

  async function loadRisk(riskKey: string): Promise<RiskRow> {
    const [row] = await db.select().from(risks).where(eq(risks.key, riskKey));
    if (!row) throw new ApiError('NOT_FOUND', `no risk ${riskKey}`);
    return row;
  }

  async function ownerManagerOf(ownerId: string): Promise<string | null> {
    const [row] = await db.select({ managerId: users.managerId }).from(users).where(eq(users.id, ownerId));
    return row?.managerId ?? null;
  }

  /** The risk function, or the line manager of the risk's owner (domain/riskRegister.ts editRefusal). */
  async function assertMayEdit(actor: { id: string; roles: readonly string[] }, risk: RiskRow) {
    const refusal = editRefusal({ userId: actor.id, roles: actor.roles as never }, await ownerManagerOf(risk.ownerId));
    if (refusal) throw new ApiError('FORBIDDEN', refusal, undefined, 'NOT_RISK_EDITOR');
  }

  /**
   * One risk with its controls, links and acceptance: now, or as they stood
   * at `asOf` (the version, the controls linked by then with their last test
   * by then, the links made by then, the acceptance with its status then).
   */
  async function fullRisk(riskKey: string, asOf?: string) {
    const [entry] = await register(asOf, riskKey);
    if (!entry) {
      throw new ApiError(
        'NOT_FOUND',
        asOf ? `risk ${riskKey} was not in the register at ${asOf}` : `no risk ${riskKey}`,
      );
    }
    const at = asOf ? new Date(asOf) : undefined;
    const policy = await currentPolicy(db);
    const acceptance = (await (at ? acceptancesAsOf([riskKey], at) : latestAcceptances([riskKey]))).get(riskKey);
    const [controls, testsThen, links] = await Promise.all([
      db
        .select()
        .from(riskControls)
        .where(and(eq(riskControls.riskKey, riskKey), at ? lte(riskControls.createdAt, at) : undefined))
        .orderBy(asc(riskControls.createdAt)),
      at ? lastTestsAsOf(riskKey, at) : undefined,
      db
        .select({
          caseId: riskLinks.caseId,
          linkedBy: riskLinks.linkedBy,
          linkedAt: riskLinks.linkedAt,
          process: cases.process,
          title: cases.title,
          stage: cases.stage,
          status: cases.status,
        })
        .from(riskLinks)
        .innerJoin(cases, eq(cases.id, riskLinks.caseId))
        .where(and(eq(riskLinks.riskKey, riskKey), at ? lte(riskLinks.linkedAt, at) : undefined))
        .orderBy(asc(riskLinks.linkedAt)),
    ]);
    return {
      ...riskDto(entry, policy, acceptance),
      controls: controls.map((k) => {
        const then = testsThen?.get(k.id);
        return {
          id: k.id,
          title: k.title,
          description: k.description,
          ownerId: k.ownerId,
          frequency: k.frequency as (typeof CONTROL_FREQUENCIES)[number],
          lastTest: !testsThen
            ? {
                result: k.lastResult as (typeof CONTROL_TEST_RESULTS)[number],
                testedBy: k.lastTestedBy,
                testedAt: iso(k.lastTestedAt),
                note: k.lastTestNote,
              }
            : then
              ? {
                  result: then.result as (typeof CONTROL_TEST_RESULTS)[number],
                  testedBy: then.testedBy,
                  testedAt: then.testedAt.toISOString(),
                  note: then.note,
                }
              : { result: 'not_tested' as const, testedBy: null, testedAt: null, note: null },
        };
      }),
      links: links.map((l) => ({ ...l, linkedAt: l.linkedAt.toISOString() })),
    };
  }

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/risks',
      tags: ['Risk register'],
      summary: 'Raise a risk in the register (managers and the risk function); its levels are computed',
      description:
        'Levels are never given: each rating’s level is computed from probability × impact under the policy’s cut-offs (risk.mediumFrom/highFrom), and aboveAppetite from the residual score against policy riskRegister.appetite[category]. Writes version 1 and its audit event (risk.created) in one transaction.',
      security: bearer,
      middleware: [requireRole(...RISK_EDITOR_ROLES)] as const,
      request: { body: { required: true, content: { 'application/json': { schema: CreateRiskSchema } } } },
      responses: {
        201: { description: 'Raised', content: { 'application/json': { schema: RiskSchema } } },
        ...errorResponses(400, 401, 403, 409),
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const actor = c.get('user');
      await requireActiveUser(db, body.ownerId, 'ownerId', { mayAct: true });
      const problem = ratingProblem(body.inherent, body.residual);
      if (problem) {
        throw new ApiError('BAD_REQUEST', `invalid body: residual: ${problem}`, [
          { field: 'body.residual', message: problem },
        ]);
      }
      const key = body.riskKey ?? `RISK-${newKeySuffix()}`;
      const { riskKey: _omit, ...values } = body;
      const now = new Date();
      const { applied } = await createRisk(db, {
        riskKey: key,
        values,
        actorId: actor.id,
        reason: 'raised in the register',
        idempotencyKey: `risk:${key}:v1`,
        now,
      });
      // A retry of one's own create (its default key derived from the Idempotency-Key) is no conflict.
      if (!applied && !(body.riskKey === undefined && inIdempotentRequest()))
        throw new ApiError('CONFLICT', `risk ${key} is already in the register`);
      return c.json(await fullRisk(key), 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'patch',
      path: '/api/risks/{riskKey}',
      tags: ['Risk register'],
      summary: 'Change a risk (the risk function or the owner’s line manager); a reason is required',
      description:
        'Writes a new version (risk_versions: values, changed fields, actor, reason, valid_from) and its audit event (risk.updated) in one transaction. Levels and aboveAppetite are computed, never given (unknown fields are refused). When the residual rating changes, an acceptance in force turns stale before this call answers. 403 NOT_RISK_EDITOR for a manager who is not the owner’s line manager; 422 NO_CHANGE when nothing differs; 409 when changed concurrently.',
      security: bearer,
      middleware: [requireRole(...RISK_EDITOR_ROLES)] as const,
      request: {
        params: RiskKeyParam,
        body: { required: true, content: { 'application/json': { schema: PatchRiskSchema } } },
      },
      responses: {
        200: { description: 'Changed', content: { 'application/json': { schema: RiskSchema } } },
        ...errorResponses(400, 401, 403, 404, 409, 422),
      },
    }),
    async (c) => {
      const { riskKey } = c.req.valid('param');
      const { reason, ...changes } = c.req.valid('json');
      const actor = c.get('user');
      const risk = await loadRisk(riskKey);
      await assertMayEdit(actor, risk);
      if (changes.ownerId) await requireActiveUser(db, changes.ownerId, 'ownerId', { mayAct: true });
      const before = valuesOf(risk);
      const after: RiskValues = { ...before, ...changes };
      const problem = ratingProblem(after.inherent, after.residual);
      if (problem) {
        throw new ApiError('BAD_REQUEST', `invalid body: residual: ${problem}`, [
          { field: 'body.residual', message: problem },
        ]);
      }
      const changed = changedFields(before, after);
      if (changed.length === 0) {
        throw new ApiError(
          'UNPROCESSABLE',
          'nothing changes: every given field equals the register',
          undefined,
          'NO_CHANGE',
        );
      }
      const version = risk.version + 1;
      const conflict = () => new ApiError('CONFLICT', `risk ${riskKey} changed meanwhile; read it again`);
      const written = await changeRisk(db, {
        row: risk,
        after,
        changed,
        actorId: actor.id,
        reason,
        idempotencyKey: `risk:${riskKey}:v${version}`,
        now: new Date(),
      }).catch((err: unknown) => {
        throw err instanceof RiskChangedMeanwhile ? conflict() : err;
      });
      if (!written.applied) throw conflict();
      if (residualChanged(before, after)) {
        await tellAcceptances(db, temporal, riskKey, {
          version,
          from: before.residual,
          to: after.residual,
          actorId: actor.id,
          reason,
        });
      }
      return c.json(await fullRisk(riskKey), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/risks',
      tags: ['Risk register'],
      summary: 'The register, filtered and paged; as of any past instant with ?asOf=',
      description:
        'Levels and aboveAppetite are computed under the policy in force now. With asOf, each risk is shown as its latest version at that instant (risks raised later are absent) with its acceptance as it stood then.',
      security: bearer,
      request: {
        query: PageQuerySchema.extend({
          ...AsOfQuery.shape,
          category: z.enum(RISK_CATEGORIES).optional(),
          level: z.enum(RISK_LEVELS).optional().openapi({ description: 'the residual level' }),
          owner: z.string().min(1).max(64).optional(),
          aboveAppetite: booleanQuery.optional(),
        }),
      },
      responses: {
        200: {
          description: 'A page of risks by key',
          content: {
            'application/json': {
              schema: z
                .object({
                  items: z.array(RiskSchema),
                  page: z.number().int(),
                  pageSize: z.number().int(),
                  total: z.number().int(),
                  asOf: z.string().nullable(),
                })
                .openapi('RiskPage'),
            },
          },
        },
        ...errorResponses(400, 401),
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const policy = await currentPolicy(db);
      const entries = await register(q.asOf);
      const keys = entries.map((e) => e.key);
      const acceptances = q.asOf ? await acceptancesAsOf(keys, new Date(q.asOf)) : await latestAcceptances(keys);
      // The register is hundreds of risks, not millions: levels are computed here, under one policy.
      const all = entries
        .map((e) => riskDto(e, policy, acceptances.get(e.key)))
        .filter(
          (r) =>
            (!q.category || r.category === q.category) &&
            (!q.level || r.residual.level === q.level) &&
            (!q.owner || r.ownerId === q.owner) &&
            (q.aboveAppetite === undefined || r.aboveAppetite === q.aboveAppetite),
        );
      const items = all.slice((q.page - 1) * q.pageSize, q.page * q.pageSize);
      return c.json({ items, page: q.page, pageSize: q.pageSize, total: all.length, asOf: q.asOf ?? null }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/risks/{riskKey}',
      tags: ['Risk register'],
      summary: 'One risk with its controls, links and latest acceptance; as of a past instant with ?asOf=',
      security: bearer,
      request: { params: RiskKeyParam, query: AsOfQuery },
      responses: {
        200: { description: 'The risk', content: { 'application/json': { schema: RiskSchema } } },
        ...errorResponses(400, 401, 404),
      },
    }),
    async (c) => {
      const { riskKey } = c.req.valid('param');
      const { asOf } = c.req.valid('query');
      return c.json(await fullRisk(riskKey, asOf), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/risks/{riskKey}/versions',
      tags: ['Risk register'],
      summary: 'Every version of a risk: values, changed fields, who, why and from when',
      security: bearer,
      request: { params: RiskKeyParam },
      responses: {
        200: {
          description: 'Versions, oldest first',
          content: {
            'application/json': {
              schema: z
                .object({
                  riskKey: z.string(),
                  versions: z.array(
                    z.object({
                      version: z.number().int(),
                      values: z.record(z.string(), z.unknown()),
                      changed: z.array(z.string()),
                      actorId: z.string(),
                      reason: z.string(),
                      validFrom: z.string(),
                    }),
                  ),
                })
                .openapi('RiskVersions'),
            },
          },
        },
        ...errorResponses(400, 401, 404),
      },
    }),
    async (c) => {
      const { riskKey } = c.req.valid('param');
      await loadRisk(riskKey);
      const rows = await db
        .select()
        .from(riskVersions)
        .where(eq(riskVersions.riskKey, riskKey))
        .orderBy(asc(riskVersions.version));
      return c.json(
        {
          riskKey,
          versions: rows.map((r) => ({
            version: r.version,
            values: r.values,
            changed: r.changed,
            actorId: r.actorId,
            reason: r.reason,
            validFrom: r.validFrom.toISOString(),
          })),
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/risks/{riskKey}/controls',
      tags: ['Risk register'],
      summary: 'Link a control (measure, 应对措施) to a risk: owner and frequency; untested until tested',
      description:
        'The risk function or the risk owner’s line manager (403 NOT_RISK_EDITOR otherwise). Audited as risk.control_added.',
      security: bearer,
      middleware: [requireRole(...RISK_EDITOR_ROLES)] as const,
      request: {
        params: RiskKeyParam,
        body: {
          required: true,
          content: {
            'application/json': {
              schema: z
                .object({
                  title: text(200).openapi({ example: 'Daily failover check of the payment gateway' }),
                  description: text(2000).optional(),
                  ownerId: z.string().min(1).max(64),
                  frequency: z.enum(CONTROL_FREQUENCIES),
                })
                .strict()
                .openapi('AddRiskControl'),
            },
          },
        },
      },
      responses: {
        201: { description: 'Linked', content: { 'application/json': { schema: ControlSchema } } },
        ...errorResponses(400, 401, 403, 404),
      },
    }),
    async (c) => {
      const { riskKey } = c.req.valid('param');
      const body = c.req.valid('json');
      const actor = c.get('user');
      const risk = await loadRisk(riskKey);
      await assertMayEdit(actor, risk);
      await requireActiveUser(db, body.ownerId, 'ownerId', { mayAct: true });
      const id = `CTL-${randomUUID().slice(0, 8).toUpperCase()}`;
      await withAuditedWrite(
        db,
        {
          idempotencyKey: `risk:${riskKey}:control:${id}`,
          actorId: actor.id,
          action: 'risk.control_added',
          payload: { riskKey, controlId: id, ...body },
        },
        (tx) =>
          tx.insert(riskControls).values({
            id,
            riskKey,
            title: body.title,
            description: body.description ?? null,
            ownerId: body.ownerId,
            frequency: body.frequency,
            createdBy: actor.id,
          }),
      );
      return c.json(
        {
          id,
          title: body.title,
          description: body.description ?? null,
          ownerId: body.ownerId,
          frequency: body.frequency,
          lastTest: { result: 'not_tested' as const, testedBy: null, testedAt: null, note: null },
        },
        201,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/risks/{riskKey}/controls/{controlId}/tests',
      tags: ['Risk register'],
      summary: 'Record a control test (risk, compliance or internal audit; never the control’s owner)',
      description:
        'Segregation of duties: the business line that runs a control does not judge it (422 SEGREGATION_OF_DUTIES for the control’s owner). Audited as risk.control_tested; the control shows its last test.',
      security: bearer,
      middleware: [requireRole(...CONTROL_TESTER_ROLES)] as const,
      request: {
        params: RiskKeyParam.extend({ controlId: z.string().min(1).max(64) }),
        body: {
          required: true,
          content: {
            'application/json': {
              schema: z
                .object({
                  result: z.enum(RECORDABLE_TEST_RESULTS),
                  note: text(2000).optional().openapi({ description: 'what was tested and found' }),
                })
                .strict()
                .openapi('RecordControlTest'),
            },
          },
        },
      },
      responses: {
        201: { description: 'Recorded', content: { 'application/json': { schema: ControlSchema } } },
        ...errorResponses(400, 401, 403, 404, 422),
      },
    }),
    async (c) => {
      const { riskKey, controlId } = c.req.valid('param');
      const body = c.req.valid('json');
      const actor = c.get('user');
      await loadRisk(riskKey);
      const [control] = await db
        .select()
        .from(riskControls)
        .where(and(eq(riskControls.id, controlId), eq(riskControls.riskKey, riskKey)));
      if (!control) throw new ApiError('NOT_FOUND', `no control ${controlId} on risk ${riskKey}`);
      const refusal = controlTestRefusal({ userId: actor.id, roles: actor.roles }, control.ownerId);
      if (refusal) {
        const status = refusal.code === 'SEGREGATION_OF_DUTIES' ? 'UNPROCESSABLE' : 'FORBIDDEN';
        throw new ApiError(status, refusal.message, undefined, refusal.code);
      }
      const testId = randomUUID();
      const now = new Date();
      await withAuditedWrite(
        db,
        {
          idempotencyKey: `risk:${riskKey}:control:${controlId}:test:${testId}`,
          actorId: actor.id,
          action: 'risk.control_tested',
          reason: body.note,
          occurredAt: now,
          payload: { riskKey, controlId, result: body.result, previous: control.lastResult },
        },
        async (tx) => {
          await tx.insert(riskControlTests).values({
            id: testId,
            controlId,
            result: body.result,
            note: body.note ?? null,
            testedBy: actor.id,
            testedAt: now,
          });
          await tx
            .update(riskControls)
            .set({
              lastResult: body.result,
              lastTestedBy: actor.id,
              lastTestedAt: now,
              lastTestNote: body.note ?? null,
            })
            .where(eq(riskControls.id, controlId));
        },
      );
      return c.json(
        {
          id: control.id,
          title: control.title,
          description: control.description,
          ownerId: control.ownerId,
          frequency: control.frequency as (typeof CONTROL_FREQUENCIES)[number],
          lastTest: { result: body.result, testedBy: actor.id, testedAt: now.toISOString(), note: body.note ?? null },
        },
        201,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/risks/{riskKey}/links',
      tags: ['Risk register'],
      summary: 'Link a risk to a case that touches it (incident, complaint, supplier review, drill, finding, cycle…)',
      description: 'The case must exist (404); a link is made once (409). Audited as risk.linked.',
      security: bearer,
      middleware: [requireRole('manager', 'risk', 'compliance', 'internal_audit')] as const,
      request: {
        params: RiskKeyParam,
        body: {
          required: true,
          content: {
            'application/json': {
              schema: z
                .object({ caseId: z.string().min(1).max(300).openapi({ example: 'incident:INC-2026-0001' }) })
                .strict()
                .openapi('LinkRiskToCase'),
            },
          },
        },
      },
      responses: {
        201: { description: 'Linked', content: { 'application/json': { schema: LinkSchema } } },
        ...errorResponses(400, 401, 403, 404, 409),
      },
    }),
    async (c) => {
      const { riskKey } = c.req.valid('param');
      const { caseId } = c.req.valid('json');
      const actor = c.get('user');
      await loadRisk(riskKey);
      const [linked] = await db
        .select({ id: cases.id, process: cases.process, title: cases.title, stage: cases.stage, status: cases.status })
        .from(cases)
        .where(eq(cases.id, caseId));
      if (!linked) throw new ApiError('NOT_FOUND', `no case ${caseId}`);
      const now = new Date();
      const { applied } = await withAuditedWrite(
        db,
        {
          idempotencyKey: `risk:${riskKey}:link:${caseId}`,
          actorId: actor.id,
          action: 'risk.linked',
          caseId,
          occurredAt: now,
          payload: { riskKey, caseId, process: linked.process },
        },
        (tx) => tx.insert(riskLinks).values({ riskKey, caseId, linkedBy: actor.id, linkedAt: now }),
      );
      if (!applied) throw new ApiError('CONFLICT', `risk ${riskKey} is already linked to ${caseId}`);
      return c.json(
        {
          caseId,
          process: linked.process,
          title: linked.title,
          stage: linked.stage,
          status: linked.status,
          linkedBy: actor.id,
          linkedAt: now.toISOString(),
        },
        201,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/risks/{riskKey}/acceptances',
      tags: ['Risk register'],
      summary: 'Ask to accept a risk (the risk owner or a manager): a risk_acceptance case with one approval',
      description:
        'Opens risk-acceptance:<riskKey>:<n> with one approval task decided at POST /api/tasks/{taskId}/decision by risk or compliance, never by the requester or the risk owner; two approvers of two functions when the residual level is high. expiresAt must be in the future and at most policy riskRegister.acceptanceMaxDays away (400). Approved, the acceptance is in force with the residual rating of that moment until it expires or the residual rating changes; then it is stale, due for review. 403 NOT_OWNER_OR_MANAGER; 409 ACCEPTANCE_OPEN while another is requested or in force.',
      security: bearer,
      request: {
        params: RiskKeyParam,
        body: {
          required: true,
          content: {
            'application/json': {
              schema: z
                .object({
                  reason: text(2000).openapi({ description: 'why the residual risk is accepted' }),
                  expiresAt: isoInstant.openapi({ description: 'the acceptance lapses then and is reviewed' }),
                  timings: z.object({ approval: ApprovalTimingsSchema.optional() }).strict().optional(),
                })
                .strict()
                .openapi('RequestRiskAcceptance'),
            },
          },
        },
      },
      responses: {
        201: {
          description: 'Opened; its approval task can be decided at once',
          content: {
            'application/json': {
              schema: z
                .object({
                  caseId: z.string(),
                  approvalTaskId: z.string(),
                  approvalsRequired: z.number().int(),
                  residual: ComputedRatingSchema,
                  links: z.object({ self: z.string(), temporalUi: z.string() }),
                })
                .openapi('RiskAcceptanceRequested'),
            },
          },
        },
        ...errorResponses(400, 401, 403, 404, 409),
      },
    }),
    async (c) => {
      const { riskKey } = c.req.valid('param');
      const body = c.req.valid('json');
      const actor = c.get('user');
      const risk = await loadRisk(riskKey);
      if (actor.id !== risk.ownerId && !actor.roles.includes('manager')) {
        throw new ApiError(
          'FORBIDDEN',
          'only the risk owner or a manager may ask to accept a risk',
          undefined,
          'NOT_OWNER_OR_MANAGER',
        );
      }
      refuseLockedTimings(settings, { 'timings.approval': body.timings?.approval });
      const policy = await currentPolicy(db);
      const timingProblem = approvalTimingsProblem(body.timings?.approval, policy.values.approval);
      if (timingProblem) throw new ApiError('BAD_REQUEST', timingProblem);
      const expiryProblem = acceptanceExpiryProblem(
        new Date(body.expiresAt),
        new Date(),
        policy.values.riskRegister.acceptanceMaxDays,
      );
      if (expiryProblem) {
        throw new ApiError('BAD_REQUEST', `invalid body: expiresAt: ${expiryProblem}`, [
          { field: 'body.expiresAt', message: expiryProblem },
        ]);
      }
      const [open] = await db
        .select({ caseId: riskAcceptances.caseId, status: riskAcceptances.status })
        .from(riskAcceptances)
        .where(and(eq(riskAcceptances.riskKey, riskKey), inArray(riskAcceptances.status, ['requested', 'active'])));
      if (open) {
        throw new ApiError(
          'CONFLICT',
          `acceptance ${open.caseId} of ${riskKey} is ${open.status === 'active' ? 'in force' : 'awaiting its decision'}`,
          { openCaseId: open.caseId },
          'ACCEPTANCE_OPEN',
        );
      }
      const [{ earlier } = { earlier: 0 }] = await db
        .select({ earlier: count() })
        .from(cases)
        .where(and(eq(cases.process, RISK_ACCEPTANCE_PROCESS), eq(cases.subjectId, riskKey)));
      const sequence = earlier + 1;
      const caseId = riskAcceptanceContract.caseId(riskAcceptanceKey(riskKey, sequence));
      const residual = rate({ probability: risk.residualProbability, impact: risk.residualImpact }, policy.values.risk);
      const started = await startCaseWorkflow<typeof riskAcceptanceWorkflow>(temporal, {
        workflowType: 'riskAcceptanceWorkflow',
        caseId,
        taskQueue: settings.taskQueue,
        process: RISK_ACCEPTANCE_PROCESS,
        stage: RISK_ACCEPTANCE_STAGE.awaitingApproval,
        riskLevel: residual.level,
        args: [
          {
            caseId,
            riskKey,
            riskTitle: risk.title,
            sequence,
            reason: body.reason,
            expiresAt: new Date(body.expiresAt).toISOString(),
            residual: { probability: residual.probability, impact: residual.impact },
            residualLevel: residual.level,
            requesterId: actor.id,
            ownerId: risk.ownerId,
            policy,
            ...(body.timings?.approval ? { timings: { approval: body.timings.approval } } : {}),
          },
        ],
      });
      if (!started) {
        throw new ApiError('CONFLICT', `an acceptance of ${riskKey} was asked for at the same moment; try again`);
      }
      return c.json(
        {
          caseId,
          approvalTaskId: `${caseId}:approval`,
          approvalsRequired: acceptanceApprovalsRequired(residual.level),
          residual,
          links: {
            self: `/api/cases/${encodeURIComponent(caseId)}`,
            temporalUi: temporalUiLink(settings.temporalUiUrl, settings.temporalNamespace, caseId),
          },
        },
        201,
      );
    },
  );

  return app;
}
