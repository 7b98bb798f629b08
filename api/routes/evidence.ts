import { createHash, randomUUID } from 'node:crypto';
import { createRoute, z } from '@hono/zod-openapi';
import { eq } from 'drizzle-orm';
import { bodyLimit } from 'hono/body-limit';
import { withAuditedWrite } from '../../db/audit';
import { cases, evidence, tasks, type EvidenceRow } from '../../db/schema';
import { assertHasPartInCase, canReadCase } from '../../platform/access';
import type { AuthUser } from '../auth';
import { toEvidenceDto } from '../dto';
import { ApiError } from '../errors';
import { EvidenceSchema } from '../schemas';
import { bearer, errorResponses, router, type AppDeps } from './common';

const EvidenceIdParam = z.object({ evidenceId: z.uuid() });
const CaseIdParam = z.object({ caseId: z.string().min(1).max(300) });
const UploadSchema = z.object({
  file: z
    .custom<File>((v) => v instanceof File, 'attach the file as form field "file"')
    .openapi({ type: 'string', format: 'binary' }),
  taskId: z.string().max(300).optional().openapi({ description: 'the task this evidence supports' }),
});

/**
 * Stores one evidence file with its SHA-256 and appends its audit event, in
 * one transaction. Returns the metadata (never the content).
 */
export async function storeEvidence(
  db: AppDeps['db'],
  input: {
    caseId: string;
    taskId: string | null;
    documentType: string | null;
    file: File;
    uploadedBy: string;
    requestId: string;
  },
): Promise<Omit<EvidenceRow, 'content'>> {
  const content = Buffer.from(await input.file.arrayBuffer());
  const row = {
    id: randomUUID(),
    caseId: input.caseId,
    taskId: input.taskId,
    documentType: input.documentType,
    fileName: input.file.name || 'evidence',
    contentType: input.file.type || 'application/octet-stream',
    sizeBytes: content.length,
    sha256: createHash('sha256').update(content).digest('hex'),
    content,
    uploadedBy: input.uploadedBy,
    createdAt: new Date(),
  };
  await withAuditedWrite(
    db,
    {
      idempotencyKey: `evidence:${row.id}`,
      actorId: row.uploadedBy,
      action: 'evidence.uploaded',
      caseId: row.caseId,
      taskId: row.taskId,
      occurredAt: row.createdAt,
      evidenceHashes: [row.sha256],
      payload: {
        evidenceId: row.id,
        fileName: row.fileName,
        sizeBytes: row.sizeBytes,
        documentType: row.documentType,
        requestId: input.requestId,
      },
    },
    (tx) => tx.insert(evidence).values(row),
  );
  const { content: _content, ...metadata } = row;
  return metadata;
}

/** The multipart body limit for an evidence upload of at most `max` bytes. */
export function evidenceBodyLimit(max: number) {
  // Multipart framing adds a little to the file itself.
  return bodyLimit({
    maxSize: max + 64 * 1024,
    onError: () => {
      throw new ApiError('PAYLOAD_TOO_LARGE', `evidence files are limited to ${max} bytes`);
    },
  });
}

export function evidenceRoutes({ db, settings }: AppDeps) {
  const app = router();
  const max = settings.maxEvidenceBytes;

  /** The evidence row, if its case is one the user may read: otherwise as if it did not exist. */
  async function readableEvidence(evidenceId: string, user: AuthUser): Promise<EvidenceRow> {
    const [row] = await db.select().from(evidence).where(eq(evidence.id, evidenceId));
    if (!row || !(await canReadCase(db, user, row.caseId)))
      throw new ApiError('NOT_FOUND', `no evidence ${evidenceId}`);
    return row;
  }

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/cases/{caseId}/evidence',
      tags: ['Evidence'],
      summary: 'Upload evidence to a case (multipart field "file"); returns its SHA-256',
      description:
        'Only from people with a part in the case: its initiator and owner, the assignees of its tasks, those who acted on it, those whose decision it awaits. Reading it as risk, compliance, internal audit or line manager is not a part: 403 NO_PART_IN_CASE. A case the caller may not read: 404. Nothing is stored when refused.',
      security: bearer,
      middleware: [evidenceBodyLimit(max)] as const,
      request: {
        params: CaseIdParam,
        body: { required: true, content: { 'multipart/form-data': { schema: UploadSchema } } },
      },
      responses: {
        201: { description: 'Stored', content: { 'application/json': { schema: EvidenceSchema } } },
        ...errorResponses(400, 401, 403, 404, 409, 413),
      },
    }),
    async (c) => {
      const { caseId } = c.req.valid('param');
      const { file, taskId } = c.req.valid('form');
      if (file.size > max) throw new ApiError('PAYLOAD_TOO_LARGE', `evidence files are limited to ${max} bytes`);
      if (file.size === 0) throw new ApiError('BAD_REQUEST', 'invalid form: file is empty');
      // 404 to whoever may not read the case, 403 to a reader without a part in it: before anything is stored.
      await assertHasPartInCase(db, c.get('user'), caseId);
      const [caseRow] = await db.select({ status: cases.status }).from(cases).where(eq(cases.id, caseId));
      if (!caseRow) throw new ApiError('NOT_FOUND', `no case ${caseId}`);
      if (caseRow.status === 'closed') throw new ApiError('CONFLICT', `case ${caseId} is closed`);
      if (taskId) {
        const [task] = await db.select({ caseId: tasks.caseId }).from(tasks).where(eq(tasks.id, taskId));
        if (task?.caseId !== caseId)
          throw new ApiError('BAD_REQUEST', `invalid form: taskId ${taskId} is not a task of ${caseId}`);
      }
      const stored = await storeEvidence(db, {
        caseId,
        taskId: taskId ?? null,
        documentType: null,
        file,
        uploadedBy: c.get('user').id,
        requestId: c.get('requestId'),
      });
      return c.json(toEvidenceDto(stored), 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/evidence/{evidenceId}',
      tags: ['Evidence'],
      summary: 'Evidence metadata',
      description: 'For whoever may read its case (see GET /api/cases); anyone else gets 404.',
      security: bearer,
      request: { params: EvidenceIdParam },
      responses: {
        200: { description: 'Metadata', content: { 'application/json': { schema: EvidenceSchema } } },
        ...errorResponses(400, 401, 404),
      },
    }),
    async (c) => {
      const { evidenceId } = c.req.valid('param');
      const row = await readableEvidence(evidenceId, c.get('user'));
      return c.json(toEvidenceDto(row), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/evidence/{evidenceId}/content',
      tags: ['Evidence'],
      summary: 'Download evidence; X-Content-SHA256 carries its hash',
      description:
        'For whoever may read its case (see GET /api/cases), supplier documents included; anyone else gets 404.',
      security: bearer,
      request: { params: EvidenceIdParam },
      responses: {
        200: {
          description: 'The file',
          content: { 'application/octet-stream': { schema: z.string().openapi({ format: 'binary' }) } },
        },
        ...errorResponses(400, 401, 404),
      },
    }),
    async (c) => {
      const { evidenceId } = c.req.valid('param');
      const row = await readableEvidence(evidenceId, c.get('user'));
      return c.body(new Uint8Array(row.content), 200, {
        'content-type': row.contentType,
        'content-length': String(row.sizeBytes),
        'content-disposition': `attachment; filename*=UTF-8''${encodeURIComponent(row.fileName)}`,
        'x-content-sha256': row.sha256,
      });
    },
  );

  return app;
}
