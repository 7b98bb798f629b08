/**
 * The policy (domain/policy.ts): everyone reads the version in force, its
 * parameters and where each default comes from; only compliance requests a
 * change, which is an approval case (workflows/policyChange.ts), never an
 * edit.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { policyChangeContract } from '../../contracts/policyChange';
import { applyPolicyChange, policyLeaves, policySource } from '../../domain/policy';
import { startCaseWorkflow } from '../../platform/cases';
import { currentPolicy, listPolicyVersions, policyVersion } from '../../platform/policy';
import { newKeyUuid } from '../../platform/idempotentCalls';
import type { policyChangeWorkflow } from '../../workflows/policyChange';
import { requireRole } from '../auth';
import { refuseLockedTimings } from '../caseTimings';
import { ApiError } from '../errors';
import { ApprovalTimingsSchema } from '../schemas';
import { bearer, errorResponses, router, type AppDeps } from './common';

const ParameterSchema = z
  .object({ path: z.string(), value: z.unknown(), source: z.string() })
  .openapi('PolicyParameter');

const PolicySchema = z
  .object({
    version: z.number().int(),
    values: z.record(z.string(), z.unknown()),
    parameters: z.array(ParameterSchema),
    summary: z.string().nullable(),
    requestedBy: z.string().nullable(),
    approvedBy: z.array(z.string()),
    changeCaseId: z.string().nullable(),
    effectiveAt: z.string().nullable(),
  })
  .openapi('Policy');

const ChangeSchema = z
  .object({
    changeKey: z
      .string()
      .regex(policyChangeContract.keyPattern, 'letters, digits, ".", "_" or "-", at most 100')
      .optional()
      .openapi({ description: 'business key; the case id is policy-change:<changeKey>. Generated when omitted.' }),
    summary: z.string().trim().min(1).max(500).openapi({ example: 'Complaint result within 36 hours' }),
    change: z.record(z.string(), z.unknown()).openapi({
      description:
        'The parameters to change, as a part of the policy values, e.g. { "complaint": { "resultWithin": "36h" } }',
      example: { complaint: { resultWithin: '36h' } },
    }),
    approvalTimings: ApprovalTimingsSchema.optional(),
  })
  .strict()
  .openapi('PolicyChangeRequest');

const ChangeStartedSchema = z
  .object({
    caseId: z.string(),
    basedOnVersion: z.number().int(),
    changed: z.array(z.string()),
    stage: z.string(),
  })
  .openapi('PolicyChangeStarted');

type VersionRow = Awaited<ReturnType<typeof listPolicyVersions>>[number];

function policyBody(version: number, values: Record<string, unknown>, row?: VersionRow) {
  return {
    version,
    values,
    parameters: policyLeaves(values).map(([path, value]) => ({ path, value, source: policySource(path) ?? '' })),
    summary: row?.summary ?? null,
    requestedBy: row?.requestedBy ?? null,
    approvedBy: row?.approvedBy ?? [],
    changeCaseId: row?.changeCaseId ?? null,
    effectiveAt: row?.effectiveAt.toISOString() ?? null,
  };
}

export function policyRoutes(deps: AppDeps) {
  const { db, temporal, settings } = deps;
  const app = router();

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/policy',
      tags: ['Policy'],
      summary: 'The policy in force: every handbook parameter, its value and its source',
      security: bearer,
      responses: {
        200: { description: 'The policy', content: { 'application/json': { schema: PolicySchema } } },
        ...errorResponses(401),
      },
    }),
    async (c) => {
      const policy = await currentPolicy(db);
      const row = (await listPolicyVersions(db)).find((r) => r.version === policy.version);
      return c.json(policyBody(policy.version, policy.values, row), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/policy/versions/{version}',
      tags: ['Policy'],
      summary: 'One version of the policy, as a case that ran under it saw it',
      security: bearer,
      request: { params: z.object({ version: z.coerce.number().int().min(1) }) },
      responses: {
        200: { description: 'The version', content: { 'application/json': { schema: PolicySchema } } },
        ...errorResponses(400, 401, 404),
      },
    }),
    async (c) => {
      const { version } = c.req.valid('param');
      const policy = await policyVersion(db, version);
      if (!policy) throw new ApiError('NOT_FOUND', `there is no policy version ${version}`);
      const row = (await listPolicyVersions(db)).find((r) => r.version === version);
      return c.json(policyBody(policy.version, policy.values, row), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/policy/changes',
      tags: ['Policy'],
      summary: 'Request a policy change (compliance only): an approval case, two other functions decide',
      description:
        'Compliance only. The change is checked against the policy in force (unknown parameters and out-of-range values are refused, naming the field); then a policy-change case waits for two approvers of two different functions, never the requester. Once approved, the next version is published and new cases run under it.',
      security: bearer,
      middleware: [requireRole('compliance')] as const,
      request: { body: { required: true, content: { 'application/json': { schema: ChangeSchema } } } },
      responses: {
        201: { description: 'Requested', content: { 'application/json': { schema: ChangeStartedSchema } } },
        ...errorResponses(400, 401, 403, 409, 422),
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      refuseLockedTimings(settings, { approvalTimings: body.approvalTimings });
      const policy = await currentPolicy(db);
      const applied = applyPolicyChange(policy.values, body.change);
      if (!applied.ok) throw new ApiError('BAD_REQUEST', `invalid body: change.${applied.problem}`, undefined);
      const changeKey = body.changeKey ?? newKeyUuid();
      const caseId = policyChangeContract.caseId(changeKey);
      const user = c.get('user');
      const started = await startCaseWorkflow<typeof policyChangeWorkflow>(temporal, {
        workflowType: 'policyChangeWorkflow',
        caseId,
        taskQueue: settings.taskQueue,
        process: policyChangeContract.process,
        stage: 'awaiting_approval',
        riskLevel: 'high',
        args: [
          {
            caseId,
            changeKey,
            summary: body.summary,
            change: body.change,
            changed: applied.changed,
            requestedBy: user.id,
            policy,
            approvalTimings: body.approvalTimings,
          },
        ],
      });
      if (!started) throw new ApiError('CONFLICT', `a case with id ${caseId} already exists`);
      return c.json({ caseId, basedOnVersion: policy.version, changed: applied.changed, stage: started.stage }, 201);
    },
  );

  return app;
}
