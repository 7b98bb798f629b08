/**
 * Internal audit findings (审计发现): internal audit records a finding, and
 * the finding opens its remedy at once (workflows/auditFinding.ts). The third
 * line records; the business line remedies; someone other than the owner
 * verifies.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { eq } from 'drizzle-orm';
import { AUDIT_AREAS, auditFindingContract, FINDING_REMEDIES, FINDING_SEVERITIES } from '../../contracts/auditFinding';
import { cases } from '../../db/schema';
import { improvementPlanSchema } from '../../contracts/pdca';
import { startCaseWorkflow } from '../../platform/cases';
import { currentPolicy } from '../../platform/policy';
import { newKeySuffix } from '../../platform/idempotentCalls';
import type { auditFindingWorkflow } from '../../workflows/auditFinding';
import { requireRole } from '../auth';
import { temporalUiLink } from '../dto';
import { ApiError } from '../errors';
import { bearer, errorResponses, requireActiveUser, router, type AppDeps } from './common';

const text = (max: number) => z.string().trim().min(1).max(max);

const FindingSchema = z
  .object({
    findingKey: z
      .string()
      .regex(auditFindingContract.keyPattern, 'letters, digits, ".", "_" or "-", at most 100')
      .optional()
      .openapi({ description: 'business key; the case id is audit-finding:<findingKey>. Generated when omitted.' }),
    title: text(200).openapi({ example: 'Access reviews of the payment console are not recorded' }),
    description: text(5000).openapi({ example: 'Q3 compliance audit: no evidence of quarterly access reviews.' }),
    severity: z.enum(FINDING_SEVERITIES),
    area: z.enum(AUDIT_AREAS),
    relatedCaseId: z.string().min(1).max(300).optional().openapi({ description: 'the case the finding is about' }),
    remedy: z.enum(FINDING_REMEDIES).openapi({
      description: 'rectification: one item tracked to verification; improvement: a PDCA cycle the owner plans',
    }),
    ownerId: z.string().min(1).max(64).openapi({ description: 'who remedies it (the business line)' }),
    dueAt: z.iso.datetime({ offset: true }).optional().openapi({ description: 'the rectification is due by then' }),
    improvement: improvementPlanSchema
      .optional()
      .openapi({ description: 'required with remedy improvement: what the cycle must achieve, measured' }),
  })
  .strict()
  .superRefine((body, ctx) => {
    if (body.remedy === 'improvement' && !body.improvement) {
      ctx.addIssue({
        code: 'custom',
        path: ['improvement'],
        message: 'an improvement remedy needs its objective and KPIs',
      });
    }
    if (body.remedy === 'rectification' && body.improvement) {
      ctx.addIssue({
        code: 'custom',
        path: ['improvement'],
        message: 'only an improvement remedy takes an improvement',
      });
    }
  })
  .openapi('RecordAuditFinding');

const RecordedSchema = z
  .object({
    caseId: z.string(),
    remedyCaseId: z.string(),
    stage: z.string(),
    links: z.object({ temporalUi: z.string() }),
  })
  .openapi('AuditFindingRecorded');

export function findingRoutes(deps: AppDeps) {
  const { db, temporal, settings } = deps;
  const app = router();

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/audit-findings',
      tags: ['Audit findings'],
      summary:
        'Record an internal audit finding (internal audit only); it opens its rectification or improvement cycle',
      description:
        'Internal audit only (the third line, finance §5.2). The finding opens its remedy at once: a rectification item that someone other than its owner verifies, or an improvement cycle (PDCA, source audit_finding) that the owner plans. The finding closes when its remedy does.',
      security: bearer,
      middleware: [requireRole('internal_audit')] as const,
      request: { body: { required: true, content: { 'application/json': { schema: FindingSchema } } } },
      responses: {
        201: { description: 'Recorded', content: { 'application/json': { schema: RecordedSchema } } },
        ...errorResponses(400, 401, 403, 404, 409),
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const user = c.get('user');
      await requireActiveUser(db, body.ownerId, 'ownerId', { mayAct: true });
      if (body.ownerId === user.id) {
        throw new ApiError(
          'BAD_REQUEST',
          'invalid body: ownerId: internal audit records findings, it does not remedy them',
          [{ field: 'body.ownerId', message: 'the auditor who records the finding may not own its remedy' }],
        );
      }
      if (body.dueAt && new Date(body.dueAt).getTime() <= Date.now()) {
        throw new ApiError('BAD_REQUEST', 'invalid body: dueAt must be in the future', [
          { field: 'body.dueAt', message: 'must be in the future' },
        ]);
      }
      if (body.relatedCaseId) {
        const [related] = await db.select({ id: cases.id }).from(cases).where(eq(cases.id, body.relatedCaseId));
        if (!related) throw new ApiError('NOT_FOUND', `no case ${body.relatedCaseId}`);
      }
      const policy = await currentPolicy(db);
      const findingKey = body.findingKey ?? `AF-${newKeySuffix()}`;
      const caseId = auditFindingContract.caseId(findingKey);
      const stage = body.remedy === 'rectification' ? 'rectification' : 'improvement';
      const started = await startCaseWorkflow<typeof auditFindingWorkflow>(temporal, {
        workflowType: 'auditFindingWorkflow',
        caseId,
        taskQueue: settings.taskQueue,
        process: auditFindingContract.process,
        stage,
        riskLevel: body.severity,
        args: [
          {
            caseId,
            findingKey,
            title: body.title,
            description: body.description,
            severity: body.severity,
            area: body.area,
            relatedCaseId: body.relatedCaseId,
            remedy: body.remedy,
            ownerId: body.ownerId,
            recordedBy: user.id,
            dueAt: body.dueAt,
            improvement: body.improvement,
            policy,
          },
        ],
      });
      if (!started) throw new ApiError('CONFLICT', `a case with id ${caseId} already exists`);
      const remedyCaseId = body.remedy === 'rectification' ? `${caseId}:rectification:1` : `pdca:AF-${findingKey}`;
      return c.json(
        {
          caseId,
          remedyCaseId,
          stage: started.stage,
          links: { temporalUi: temporalUiLink(settings.temporalUiUrl, settings.temporalNamespace, caseId) },
        },
        201,
      );
    },
  );
  return app;
}
