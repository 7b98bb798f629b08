/**
 * Customer complaints (客户投诉) through the API: accept, record the initial
 * investigation, handling and feedback, open rectification items, and raise a
 * complaint to an incident (linked both ways).
 */
import { randomUUID } from 'node:crypto';
import { createRoute, z } from '@hono/zod-openapi';
import { startCaseWorkflow } from '../../platform/cases';
import { eq } from 'drizzle-orm';
import { cases, users } from '../../db/schema';
import { BUSINESS_KEY_PATTERN } from '../../domain/cases';
import { COMPLAINT_CHANNELS, COMPLAINT_SEVERITIES } from '../../domain/complaints';
import { complaintContract } from '../../contracts/complaint';
import type { complaintWorkflow } from '../../workflows/complaint';
import { requireRole } from '../auth';
import { temporalUiLink } from '../dto';
import { ApiError } from '../errors';
import { durationSchema } from '../schemas';
import {
  actorOf,
  bearer,
  errorResponses,
  router,
  sendCaseUpdate,
  type AppDeps,
  requireActiveUser,
  contractSteps,
} from './common';
import { checkIncidentReport, ReportIncidentSchema } from './incidents';

const text = (max: number) => z.string().trim().min(1).max(max);
const json = <T extends z.ZodTypeAny>(schema: T) => ({ required: true, content: { 'application/json': { schema } } });
const IdParam = z.object({ complaintId: z.string().regex(complaintContract.keyPattern, 'a complaint id') });
const StepSchema = z.object({ stage: z.string(), rectificationTaskId: z.string().optional() }).openapi('ComplaintStep');

export function complaintRoutes(deps: AppDeps) {
  const { db, temporal, settings } = deps;
  const app = router();
  const caseIdOf = complaintContract.caseId;
  async function loadComplaint(complaintId: string) {
    const [row] = await db
      .select()
      .from(cases)
      .where(eq(cases.id, caseIdOf(complaintId)));
    if (!row) throw new ApiError('NOT_FOUND', `no complaint ${complaintId}`);
    return row;
  }

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/complaints',
      tags: ['Complaints'],
      summary: 'Accept a customer complaint (受理); the 24 h and 48 h SLAs start now',
      security: bearer,
      middleware: [requireRole('manager', 'action_owner')] as const,
      request: {
        body: json(
          z
            .object({
              complaintId: z.string().regex(BUSINESS_KEY_PATTERN).optional(),
              customerRef: z
                .string()
                .trim()
                .regex(/^[A-Za-z0-9._:-]{1,64}$/, 'the CRM reference, not personal data')
                .openapi({ example: 'CUST-88120' }),
              channel: z.enum(COMPLAINT_CHANNELS),
              subject: text(200),
              description: z.string().max(10_000).optional(),
              severity: z.enum(COMPLAINT_SEVERITIES).default('normal'),
              handlerId: z.string().min(1).max(64).optional().openapi({ description: 'defaults to the caller' }),
              timings: z
                .object({
                  initialInvestigationWithin: durationSchema.optional(),
                  resultWithin: durationSchema.optional(),
                })
                .strict()
                .optional(),
            })
            .strict()
            .openapi('AcceptComplaint'),
        ),
      },
      responses: {
        201: {
          description: 'Accepted',
          content: {
            'application/json': {
              schema: z.object({
                caseId: z.string(),
                complaintId: z.string(),
                links: z.object({ temporalUi: z.string() }),
              }),
            },
          },
        },
        ...errorResponses(400, 401, 403, 409),
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const user = c.get('user');
      const handlerId = body.handlerId ?? user.id;
      if (body.handlerId) await requireActiveUser(db, body.handlerId, 'handlerId', { mayAct: true });
      const complaintId = body.complaintId ?? `CMP-${randomUUID().slice(0, 8).toUpperCase()}`;
      const caseId = caseIdOf(complaintId);
      const started = await startCaseWorkflow<typeof complaintWorkflow>(temporal, {
        workflowType: 'complaintWorkflow',
        caseId,
        taskQueue: settings.taskQueue,
        process: 'complaint',
        stage: 'investigating',
        args: [
          {
            caseId,
            complaintId,
            customerRef: body.customerRef,
            channel: body.channel,
            subject: body.subject,
            description: body.description,
            severity: body.severity,
            acceptedBy: user.id,
            handlerId,
            timings: body.timings,
          },
        ],
      });
      if (!started) throw new ApiError('CONFLICT', `complaint ${complaintId} already exists`);
      return c.json(
        {
          caseId,
          complaintId,
          links: { temporalUi: temporalUiLink(settings.temporalUiUrl, settings.temporalNamespace, caseId) },
        },
        201,
      );
    },
  );

  contractSteps(app, complaintContract, {
    resource: '/api/complaints',
    idName: 'complaintId',
    idParam: IdParam,
    tag: 'Complaints',
    resultSchema: StepSchema,
    temporal,
    load: loadComplaint,
    before: { rectifications: (body) => requireActiveUser(db, String(body.ownerId), 'ownerId') },
  });

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/complaints/{complaintId}/raise-incident',
      tags: ['Complaints'],
      summary:
        'Raise a serious or repeated complaint to an incident (managers), linked both ways: one step of the complaint, which starts the incident',
      security: bearer,
      middleware: [requireRole('manager')] as const,
      request: { params: IdParam, body: json(ReportIncidentSchema.partial({ title: true })) },
      responses: {
        201: {
          description: 'The incident',
          content: {
            'application/json': {
              schema: z.object({ incidentCaseId: z.string(), incidentId: z.string(), grade: z.string() }),
            },
          },
        },
        ...errorResponses(400, 401, 403, 404, 409),
      },
    }),
    async (c) => {
      const { complaintId } = c.req.valid('param');
      const complaint = await loadComplaint(complaintId);
      if (complaint.data.linkedIncidentCaseId)
        throw new ApiError('CONFLICT', `already raised to ${complaint.data.linkedIncidentCaseId}`);
      if (complaint.status === 'closed') throw new ApiError('CONFLICT', `complaint ${complaintId} is closed`);
      const body = c.req.valid('json');
      // The API checks the report as reporting an incident does; the complaint's workflow starts the
      // incident and records the link, in one Update that answers once both can be read.
      const { incident } = await checkIncidentReport(deps, c.get('user'), {
        ...body,
        title: body.title ?? `From complaint ${complaintId}: ${complaint.title}`,
      });
      const raised = await sendCaseUpdate(temporal, complaint.id, complaintContract.steps.raiseIncident.update, {
        actor: actorOf(c),
        incident: { ...incident, timings: incident.timings as Record<string, unknown> | undefined },
      });
      return c.json({ incidentCaseId: raised.incidentCaseId, incidentId: raised.incidentId, grade: raised.grade }, 201);
    },
  );

  return app;
}
