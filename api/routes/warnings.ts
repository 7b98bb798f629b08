/**
 * Key risk indicators and risk warnings (关键风险指标, 三级预警; e-commerce
 * §6.2, finance §5.4). Managers and the risk function define indicators with
 * a threshold per level; monitoring systems post observations, idempotent by
 * alert key; an observation that reaches a threshold opens a warning case
 * (workflows/riskWarning.ts) whose response follows its level.
 *
 * Monitoring systems post as a service user holding the risk role (an API
 * token of its own; the risk function owns the monitoring), or a manager's.
 */
import { createHash } from 'node:crypto';
import { createRoute, z } from '@hono/zod-openapi';
import { and, count, desc, eq, gte, isNotNull, lte, ne } from 'drizzle-orm';
import {
  FIRST_STAGE,
  RISK_LEVEL_OF,
  riskWarningContract,
  WARNING_PART_PATTERN,
  warningKey,
} from '../../contracts/riskWarning';
import { withAuditedWrite } from '../../db/audit';
import { cases, keyRiskIndicators, kriObservations, risks, users, type KeyRiskIndicatorRow } from '../../db/schema';
import { validateTimings, type ApprovalTimings } from '../../domain/deadlines';
import {
  KRI_DIRECTIONS,
  levelReached,
  responseLadder,
  thresholdsProblem,
  warningLevel,
  WARNING_LEVELS,
  type WarningLevel,
} from '../../domain/warnings';
import { startCaseWorkflow } from '../../platform/cases';
import { currentPolicy } from '../../platform/policy';
import type { riskWarningWorkflow } from '../../workflows/riskWarning';
import { GovWarningLevel } from '../../workflows/searchAttributes';
import { requireRole } from '../auth';
import { refuseLockedTimings } from '../caseTimings';
import { temporalUiLink } from '../dto';
import { ApiError } from '../errors';
import { ApprovalTimingsSchema, PageQuerySchema } from '../schemas';
import { bearer, contractSteps, errorResponses, router, type AppDeps } from './common';

const text = (max: number) => z.string().trim().min(1).max(max);
const keyOf = (what: string) =>
  z.string().regex(WARNING_PART_PATTERN, `${what}: letters, digits, ".", "_" or "-", at most 60`);

const ThresholdsSchema = z
  .object({ general: z.number().finite(), elevated: z.number().finite(), major: z.number().finite() })
  .strict()
  .openapi({ description: '一般 / 较高 / 重大: ordered by the direction (above: rising; below: falling)' });

const KriBodySchema = z
  .object({
    kriKey: keyOf('kriKey').openapi({ example: 'KRI-REFUND-RATE' }),
    name: text(200).openapi({ example: 'Refund requests per hour' }),
    unit: z.string().trim().min(1).max(20).optional().openapi({ example: 'per hour' }),
    direction: z
      .enum(KRI_DIRECTIONS)
      .openapi({ description: 'above: the risk grows with the value; below: it grows as the value falls' }),
    thresholds: ThresholdsSchema,
    ownerId: z.string().min(1).max(64).openapi({
      description: 'an active manager: acknowledges general warnings, plans elevated ones, owns a major one’s incident',
    }),
    riskKey: z.string().min(1).max(100).optional().openapi({ description: 'the risk of the register it watches' }),
  })
  .strict()
  .superRefine((body, ctx) => {
    const problem = thresholdsProblem(body.direction, body.thresholds);
    if (problem) ctx.addIssue({ code: 'custom', path: ['thresholds', problem.field], message: problem.message });
  })
  .openapi('DefineKri');

const KriSchema = z
  .object({
    kriKey: z.string(),
    name: z.string(),
    unit: z.string().nullable(),
    direction: z.enum(KRI_DIRECTIONS),
    thresholds: ThresholdsSchema,
    ownerId: z.string(),
    riskKey: z.string().nullable(),
    createdBy: z.string(),
    createdAt: z.string(),
  })
  .openapi('Kri');

const ObservationSchema = z
  .object({
    alertKey: z.string(),
    kriKey: z.string(),
    value: z.number(),
    observedAt: z.string(),
    levelReached: z.enum(WARNING_LEVELS).nullable(),
    level: z.enum(WARNING_LEVELS).nullable().openapi({ description: 'the warning’s level; null: no warning' }),
    repeatOf: z.array(z.string()),
    warningCaseId: z.string().nullable(),
    recordedBy: z.string(),
    recordedAt: z.string(),
  })
  .openapi('KriObservation');

const ObservationBodySchema = z
  .object({
    alertKey: keyOf('alertKey').openapi({ example: 'MON-20261128-0001', description: 'the idempotency key' }),
    value: z.number().finite(),
    observedAt: z.iso
      .datetime({ offset: true })
      .refine((t) => Date.parse(t) <= Date.now() + 5 * 60_000, 'is in the future'),
    timings: z
      .object({ response: ApprovalTimingsSchema.optional(), review: ApprovalTimingsSchema.optional() })
      .strict()
      .optional()
      .openapi({ description: 'per-case clocks, where the deployment allows them (tests and demos)' }),
  })
  .strict()
  .openapi('PostObservation');

const ObservedSchema = z
  .object({
    observation: ObservationSchema,
    warning: z
      .object({
        caseId: z.string(),
        level: z.enum(WARNING_LEVELS),
        stage: z.string(),
        links: z.object({ case: z.string(), temporalUi: z.string() }),
      })
      .nullable(),
  })
  .openapi('KriObserved');

const KriParam = z.object({ kriKey: keyOf('kriKey') });
const WarningParam = z.object({
  warningKey: z.string().regex(riskWarningContract.keyPattern, 'a warning key: <kriKey>:<alertKey>'),
});

const kriDto = (row: KeyRiskIndicatorRow) => ({
  kriKey: row.key,
  name: row.name,
  unit: row.unit,
  direction: row.direction as (typeof KRI_DIRECTIONS)[number],
  thresholds: { general: row.thresholdGeneral, elevated: row.thresholdElevated, major: row.thresholdMajor },
  ownerId: row.ownerId,
  riskKey: row.riskKey,
  createdBy: row.createdBy,
  createdAt: row.createdAt.toISOString(),
});

const observationDto = (row: typeof kriObservations.$inferSelect) => ({
  alertKey: row.alertKey,
  kriKey: row.kriKey,
  value: row.value,
  observedAt: row.observedAt.toISOString(),
  levelReached: row.levelReached as WarningLevel | null,
  level: row.level as WarningLevel | null,
  repeatOf: row.repeatOf,
  warningCaseId: row.warningCaseId,
  recordedBy: row.recordedBy,
  recordedAt: row.recordedAt.toISOString(),
});

/** What makes two posts of one alert key the same: the indicator and the body, normalised. */
function requestHash(kriKey: string, body: z.infer<typeof ObservationBodySchema>): string {
  const canonical = JSON.stringify([
    kriKey,
    body.value,
    new Date(body.observedAt).toISOString(),
    body.timings?.response ?? null,
    body.timings?.review ?? null,
  ]);
  return createHash('sha256').update(canonical).digest('hex');
}

export function warningRoutes(deps: AppDeps) {
  const { db, temporal, settings } = deps;
  const app = router();

  async function loadKri(kriKey: string) {
    const [row] = await db.select().from(keyRiskIndicators).where(eq(keyRiskIndicators.key, kriKey));
    if (!row) throw new ApiError('NOT_FOUND', `no key risk indicator ${kriKey}`);
    return row;
  }

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/kris',
      tags: ['Risk warnings'],
      summary: 'Define a key risk indicator (关键风险指标) with a threshold per warning level (managers and risk)',
      description:
        'Thresholds are ordered by the direction: above, general < elevated < major; below, general > elevated > major (e-commerce §6.2, finance §5.4). The owner is an active manager. riskKey names a risk of the register (GET /api/risks/{riskKey}).',
      security: bearer,
      middleware: [requireRole('manager', 'risk')] as const,
      request: { body: { required: true, content: { 'application/json': { schema: KriBodySchema } } } },
      responses: {
        201: { description: 'Defined', content: { 'application/json': { schema: KriSchema } } },
        ...errorResponses(400, 401, 403, 404, 409),
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const user = c.get('user');
      const [owner] = await db
        .select({ active: users.active, roles: users.roles })
        .from(users)
        .where(eq(users.id, body.ownerId));
      if (!owner?.active || !owner.roles.includes('manager')) {
        throw new ApiError('BAD_REQUEST', `invalid body: ownerId "${body.ownerId}" is not an active manager`, [
          { field: 'body.ownerId', message: 'an active manager owns an indicator (and a major warning’s incident)' },
        ]);
      }
      if (body.riskKey) {
        const [risk] = await db.select({ key: risks.key }).from(risks).where(eq(risks.key, body.riskKey));
        if (!risk) throw new ApiError('NOT_FOUND', `no risk ${body.riskKey} in the register`);
      }
      const now = new Date();
      const { applied } = await withAuditedWrite(
        db,
        {
          idempotencyKey: `kri:${body.kriKey}:defined`,
          actorId: user.id,
          action: 'kri.defined',
          reason: 'key risk indicator defined',
          occurredAt: now,
          payload: { ...body },
        },
        async (tx) => {
          const inserted = await tx
            .insert(keyRiskIndicators)
            .values({
              key: body.kriKey,
              name: body.name,
              unit: body.unit ?? null,
              direction: body.direction,
              thresholdGeneral: body.thresholds.general,
              thresholdElevated: body.thresholds.elevated,
              thresholdMajor: body.thresholds.major,
              ownerId: body.ownerId,
              riskKey: body.riskKey ?? null,
              createdBy: user.id,
              createdAt: now,
            })
            .onConflictDoNothing()
            .returning({ key: keyRiskIndicators.key });
          if (inserted.length === 0) throw new ApiError('CONFLICT', `key risk indicator ${body.kriKey} already exists`);
        },
      );
      if (!applied) throw new ApiError('CONFLICT', `key risk indicator ${body.kriKey} already exists`);
      return c.json(kriDto(await loadKri(body.kriKey)), 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/kris',
      tags: ['Risk warnings'],
      summary: 'Key risk indicators, paged by key',
      security: bearer,
      request: { query: PageQuerySchema },
      responses: {
        200: {
          description: 'A page of indicators',
          content: {
            'application/json': {
              schema: z
                .object({
                  items: z.array(KriSchema),
                  page: z.number().int(),
                  pageSize: z.number().int(),
                  total: z.number().int(),
                })
                .openapi('KriPage'),
            },
          },
        },
        ...errorResponses(400, 401),
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const [{ total }] = (await db.select({ total: count() }).from(keyRiskIndicators)) as [{ total: number }];
      const rows = await db
        .select()
        .from(keyRiskIndicators)
        .orderBy(keyRiskIndicators.key)
        .limit(q.pageSize)
        .offset((q.page - 1) * q.pageSize);
      return c.json({ items: rows.map(kriDto), page: q.page, pageSize: q.pageSize, total: Number(total) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/kris/{kriKey}',
      tags: ['Risk warnings'],
      summary: 'One key risk indicator with its latest observations (newest first, at most 50)',
      security: bearer,
      request: { params: KriParam },
      responses: {
        200: {
          description: 'The indicator',
          content: {
            'application/json': {
              schema: KriSchema.extend({ observations: z.array(ObservationSchema) }).openapi('KriDetail'),
            },
          },
        },
        ...errorResponses(400, 401, 404),
      },
    }),
    async (c) => {
      const { kriKey } = c.req.valid('param');
      const row = await loadKri(kriKey);
      const observations = await db
        .select()
        .from(kriObservations)
        .where(eq(kriObservations.kriKey, kriKey))
        .orderBy(desc(kriObservations.observedAt), desc(kriObservations.alertKey))
        .limit(50);
      return c.json({ ...kriDto(row), observations: observations.map(observationDto) }, 200);
    },
  );

  /** Starts the warning an observation recorded; answers once its case has settled. A second start is a no-op. */
  async function startWarning(
    kri: KeyRiskIndicatorRow,
    observation: typeof kriObservations.$inferSelect,
    policy: Awaited<ReturnType<typeof currentPolicy>>,
    timings?: { response?: ApprovalTimings; review?: ApprovalTimings },
  ) {
    const level = observation.level as WarningLevel | null;
    const caseId = observation.warningCaseId;
    if (!level || !caseId) return;
    await startCaseWorkflow<typeof riskWarningWorkflow>(temporal, {
      workflowType: 'riskWarningWorkflow',
      caseId,
      taskQueue: settings.taskQueue,
      process: riskWarningContract.process,
      stage: FIRST_STAGE[level],
      riskLevel: RISK_LEVEL_OF[level],
      searchAttributes: [{ key: GovWarningLevel, value: level }],
      args: [
        {
          caseId,
          warningKey: warningKey(kri.key, observation.alertKey),
          kriKey: kri.key,
          kriName: kri.name,
          unit: kri.unit ?? undefined,
          direction: kri.direction as 'above' | 'below',
          thresholds: thresholdsOf(kri),
          alertKey: observation.alertKey,
          value: observation.value,
          observedAt: observation.observedAt.toISOString(),
          levelReached: observation.levelReached as WarningLevel,
          level,
          repeatOf: observation.repeatOf,
          ownerId: kri.ownerId,
          riskKey: kri.riskKey ?? undefined,
          raisedBy: observation.recordedBy,
          policy,
          timings,
        },
      ],
    });
  }

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/kris/{kriKey}/observations',
      tags: ['Risk warnings'],
      summary:
        'Post an observation from a monitoring system (a service user holding risk, or a manager); idempotent by alertKey',
      description:
        'The warning’s level is the highest threshold the value reaches; below every threshold the observation is recorded and no warning opens. A warning of the same indicator observed within warnings.repeatWindowDays before raises the level one step (major stays major). A warning opens the case warning:<kriKey>:<alertKey> and answers once it has settled. The same alertKey with the same body answers as the first time (200) and starts nothing; with another body, 409.',
      security: bearer,
      middleware: [requireRole('manager', 'risk')] as const,
      request: {
        params: KriParam,
        body: { required: true, content: { 'application/json': { schema: ObservationBodySchema } } },
      },
      responses: {
        201: {
          description: 'Recorded (and the warning opened)',
          content: { 'application/json': { schema: ObservedSchema } },
        },
        200: {
          description: 'Already recorded under this alertKey: the first answer',
          content: { 'application/json': { schema: ObservedSchema } },
        },
        ...errorResponses(400, 401, 403, 404, 409),
      },
    }),
    async (c) => {
      const { kriKey } = c.req.valid('param');
      const body = c.req.valid('json');
      const user = c.get('user');
      refuseLockedTimings(settings, {
        'timings.response': body.timings?.response,
        'timings.review': body.timings?.review,
      });
      const kri = await loadKri(kriKey);
      const hash = requestHash(kriKey, body);
      const policy = await currentPolicy(db);

      const answer = async (row: typeof kriObservations.$inferSelect, status: 200 | 201) => {
        let warning = null;
        if (row.warningCaseId && row.level) {
          const [found] = await db.select({ stage: cases.stage }).from(cases).where(eq(cases.id, row.warningCaseId));
          warning = {
            caseId: row.warningCaseId,
            level: row.level as WarningLevel,
            stage: found?.stage ?? 'starting',
            links: {
              case: `/api/cases/${encodeURIComponent(row.warningCaseId)}`,
              temporalUi: temporalUiLink(settings.temporalUiUrl, settings.temporalNamespace, row.warningCaseId),
            },
          };
        }
        return c.json({ observation: observationDto(row), warning }, status);
      };

      const [earlier] = await db.select().from(kriObservations).where(eq(kriObservations.alertKey, body.alertKey));
      if (earlier) {
        if (earlier.requestHash !== hash) {
          throw new ApiError(
            'CONFLICT',
            `alert ${body.alertKey} was already posted with another body (indicator ${earlier.kriKey}, value ${earlier.value}, observed ${earlier.observedAt.toISOString()})`,
            undefined,
            'ALERT_KEY_REUSED',
          );
        }
        // The first post recorded its warning but did not live to start it: start it now (policy clocks).
        if (earlier.warningCaseId) {
          const [opened] = await db.select({ id: cases.id }).from(cases).where(eq(cases.id, earlier.warningCaseId));
          if (!opened) await startWarning(kri, earlier, policy);
        }
        return answer(earlier, 200);
      }

      let timings: { response?: ApprovalTimings; review?: ApprovalTimings } | undefined;
      const reached = levelReached(kri.direction as 'above' | 'below', thresholdsOf(kri), body.value);
      let level: WarningLevel | null = null;
      let repeatOf: string[] = [];
      if (reached) {
        if (body.timings) {
          const response = {
            ...responseLadder(policy.values.warnings.acknowledgeWithin[reached]),
            ...body.timings.response,
          };
          const review = { ...policy.values.approval, ...body.timings.review };
          const problem = validateTimings(response) ?? validateTimings(review);
          if (problem) throw new ApiError('BAD_REQUEST', `invalid body: timings ${problem}`);
          timings = { ...(body.timings.response ? { response } : {}), ...(body.timings.review ? { review } : {}) };
        }
        const windowDays = policy.values.warnings.repeatWindowDays;
        const observedAt = new Date(body.observedAt);
        const earlierWarnings = await db
          .select({ alertKey: kriObservations.alertKey, observedAt: kriObservations.observedAt })
          .from(kriObservations)
          .where(
            and(
              eq(kriObservations.kriKey, kriKey),
              isNotNull(kriObservations.level),
              ne(kriObservations.alertKey, body.alertKey),
              gte(kriObservations.observedAt, new Date(observedAt.getTime() - windowDays * 86_400_000)),
              lte(kriObservations.observedAt, observedAt),
            ),
          );
        const result = warningLevel(
          reached,
          observedAt.toISOString(),
          earlierWarnings.map((w) => ({ alertKey: w.alertKey, observedAt: w.observedAt.toISOString() })),
          windowDays,
        );
        level = result.level;
        repeatOf = result.repeatOf.sort();
      }
      const key = warningKey(kriKey, body.alertKey);
      const caseId = level ? riskWarningContract.caseId(key) : null;

      // The observation first, in one audited write keyed by the alert: a second post of the
      // same alert (even concurrent) finds it and starts nothing new.
      const { applied } = await withAuditedWrite(
        db,
        {
          idempotencyKey: `kri-observation:${body.alertKey}`,
          actorId: user.id,
          action: level ? 'kri.warning_raised' : 'kri.observed',
          reason: level
            ? `${body.value} reaches the ${reached} threshold${repeatOf.length ? `; repeat of ${repeatOf.join(', ')}: raised to ${level}` : ''}`
            : `${body.value} reaches no threshold`,
          caseId: caseId ?? undefined,
          payload: {
            kriKey,
            alertKey: body.alertKey,
            value: body.value,
            observedAt: body.observedAt,
            levelReached: reached,
            level,
            repeatOf,
          },
        },
        async (tx) => {
          await tx.insert(kriObservations).values({
            alertKey: body.alertKey,
            kriKey,
            value: body.value,
            observedAt: new Date(body.observedAt),
            requestHash: hash,
            levelReached: reached,
            level,
            repeatOf,
            warningCaseId: caseId,
            recordedBy: user.id,
          });
        },
      );
      const [row] = await db.select().from(kriObservations).where(eq(kriObservations.alertKey, body.alertKey));
      if (!applied) {
        if (row!.requestHash !== hash)
          throw new ApiError(
            'CONFLICT',
            `alert ${body.alertKey} was already posted with another body`,
            undefined,
            'ALERT_KEY_REUSED',
          );
        return answer(row!, 200);
      }
      await startWarning(kri, row!, policy, timings);
      return answer(row!, 201);
    },
  );

  async function loadWarning(key: string) {
    const [row] = await db
      .select({ id: cases.id, ownerId: cases.ownerId })
      .from(cases)
      .where(eq(cases.id, riskWarningContract.caseId(key)));
    if (!row) throw new ApiError('NOT_FOUND', `no risk warning ${key}`);
    return row;
  }

  contractSteps(app, riskWarningContract, {
    resource: '/api/warnings',
    idName: 'warningKey',
    idParam: WarningParam,
    tag: 'Risk warnings',
    resultSchema: z.object({ stage: z.string() }).openapi('RiskWarningStep'),
    temporal,
    load: loadWarning,
  });

  return app;
}

function thresholdsOf(kri: KeyRiskIndicatorRow) {
  return { general: kri.thresholdGeneral, elevated: kri.thresholdElevated, major: kri.thresholdMajor };
}
