/** Read-model rows as the API shows them: dates as ISO strings, no file content. */
import type { AuditEventRow, CaseRow, EvidenceRow, NotificationRow, TaskRow } from '../db/schema';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function temporalUiLink(uiUrl: string, namespace: string, workflowId: string): string {
  return `${uiUrl}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

export function toCaseDto(row: CaseRow, now = new Date()) {
  return {
    id: row.id,
    process: row.process,
    businessKey: row.businessKey,
    title: row.title,
    description: row.description,
    stage: row.stage,
    status: row.status,
    outcome: row.outcome,
    riskLevel: row.riskLevel,
    initiatorId: row.initiatorId,
    ownerId: row.ownerId,
    ownerRole: row.ownerRole,
    dueAt: iso(row.dueAt),
    overdue: row.status === 'open' && !!row.dueAt && row.dueAt < now,
    parentCaseId: row.parentCaseId,
    workflowId: row.workflowId,
    runId: row.runId,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    closedAt: iso(row.closedAt),
  };
}

export function toTaskDto(row: TaskRow, now = new Date()) {
  return {
    id: row.id,
    caseId: row.caseId,
    workflowId: row.workflowId,
    kind: row.kind,
    title: row.title,
    candidateRoles: row.candidateRoles,
    assigneeId: row.assigneeId,
    status: row.status,
    dueAt: iso(row.dueAt),
    overdue: !['done', 'expired'].includes(row.status) && !!row.dueAt && row.dueAt < now,
    approvalsRequired: row.approvalsRequired,
    allowedDecisions: row.allowedDecisions,
    votes: row.votes,
    decision: row.decision,
    decidedBy: row.decidedBy,
    decidedAt: iso(row.decidedAt),
    comment: row.comment,
    evidenceIds: row.evidenceIds,
    remindedAt: iso(row.remindedAt),
    escalatedAt: iso(row.escalatedAt),
    escalatedTo: row.escalatedTo,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export function toEvidenceDto(row: Omit<EvidenceRow, 'content'>) {
  return {
    id: row.id,
    caseId: row.caseId,
    taskId: row.taskId,
    documentType: row.documentType,
    fileName: row.fileName,
    contentType: row.contentType,
    sizeBytes: row.sizeBytes,
    sha256: row.sha256,
    uploadedBy: row.uploadedBy,
    createdAt: row.createdAt.toISOString(),
  };
}

export function toAuditDto(row: AuditEventRow) {
  return {
    seq: row.seq,
    occurredAt: row.occurredAt.toISOString(),
    actorId: row.actorId,
    action: row.action,
    caseId: row.caseId,
    taskId: row.taskId,
    reason: row.reason,
    payload: row.payload,
    evidenceHashes: row.evidenceHashes,
    prevHash: row.prevHash,
    hash: row.hash,
  };
}

export function toNotificationDto(row: NotificationRow) {
  return { ...row, createdAt: row.createdAt.toISOString() };
}
