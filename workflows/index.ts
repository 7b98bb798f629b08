/**
 * Every workflow the worker runs, each loaded when a workflow of its type
 * first runs. The SDK evaluates the bundle's modules afresh for every
 * workflow (each has its own module cache in the reused V8 context), so
 * importing every workflow here made each new case evaluate all 67 modules,
 * every contract's schemas with them (about a quarter of the workflow
 * thread's CPU per approval case, README "Benchmarks"); an approval request
 * needs 23 of them. The bundle holds every module still: the worker's
 * bundler options (worker.ts) keep dynamic imports in its one chunk, and an
 * import() here evaluates its module when first called.
 *
 * Relative imports only: the workflow bundler does not read tsconfig paths.
 * Each wrapper starts its workflow in the same activation (its import()
 * resolves a few microtasks later, and the SDK runs every microtask before
 * it ends the activation; signals and updates that came with the start wait
 * in the SDK's buffer until the workflow sets its handlers, as before), so
 * nothing in a workflow's history changes.
 */

export async function approvalRequestWorkflow(
  ...args: Parameters<typeof import('./approvalRequest').approvalRequestWorkflow>
): ReturnType<typeof import('./approvalRequest').approvalRequestWorkflow> {
  return (await import('./approvalRequest')).approvalRequestWorkflow(...args);
}

export async function auditPlanLauncherWorkflow(
  ...args: Parameters<typeof import('./audit').auditPlanLauncherWorkflow>
): ReturnType<typeof import('./audit').auditPlanLauncherWorkflow> {
  return (await import('./audit')).auditPlanLauncherWorkflow(...args);
}

export async function auditWorkflow(
  ...args: Parameters<typeof import('./audit').auditWorkflow>
): ReturnType<typeof import('./audit').auditWorkflow> {
  return (await import('./audit')).auditWorkflow(...args);
}

export async function auditAnchorWorkflow(
  ...args: Parameters<typeof import('./auditAnchor').auditAnchorWorkflow>
): ReturnType<typeof import('./auditAnchor').auditAnchorWorkflow> {
  return (await import('./auditAnchor')).auditAnchorWorkflow(...args);
}

export async function auditFindingWorkflow(
  ...args: Parameters<typeof import('./auditFinding').auditFindingWorkflow>
): ReturnType<typeof import('./auditFinding').auditFindingWorkflow> {
  return (await import('./auditFinding')).auditFindingWorkflow(...args);
}

export async function complaintWorkflow(
  ...args: Parameters<typeof import('./complaint').complaintWorkflow>
): ReturnType<typeof import('./complaint').complaintWorkflow> {
  return (await import('./complaint')).complaintWorkflow(...args);
}

export async function drillProgrammeWorkflow(
  ...args: Parameters<typeof import('./drill').drillProgrammeWorkflow>
): ReturnType<typeof import('./drill').drillProgrammeWorkflow> {
  return (await import('./drill')).drillProgrammeWorkflow(...args);
}

export async function drillWorkflow(
  ...args: Parameters<typeof import('./drill').drillWorkflow>
): ReturnType<typeof import('./drill').drillWorkflow> {
  return (await import('./drill')).drillWorkflow(...args);
}

export async function incidentWorkflow(
  ...args: Parameters<typeof import('./incident').incidentWorkflow>
): ReturnType<typeof import('./incident').incidentWorkflow> {
  return (await import('./incident')).incidentWorkflow(...args);
}

export async function notificationDeliveryWorkflow(
  ...args: Parameters<typeof import('./notificationDelivery').notificationDeliveryWorkflow>
): ReturnType<typeof import('./notificationDelivery').notificationDeliveryWorkflow> {
  return (await import('./notificationDelivery')).notificationDeliveryWorkflow(...args);
}

export async function notificationDigestWorkflow(
  ...args: Parameters<typeof import('./notificationDelivery').notificationDigestWorkflow>
): ReturnType<typeof import('./notificationDelivery').notificationDigestWorkflow> {
  return (await import('./notificationDelivery')).notificationDigestWorkflow(...args);
}

export async function pdcaCycleWorkflow(
  ...args: Parameters<typeof import('./pdca').pdcaCycleWorkflow>
): ReturnType<typeof import('./pdca').pdcaCycleWorkflow> {
  return (await import('./pdca')).pdcaCycleWorkflow(...args);
}

export async function policyChangeWorkflow(
  ...args: Parameters<typeof import('./policyChange').policyChangeWorkflow>
): ReturnType<typeof import('./policyChange').policyChangeWorkflow> {
  return (await import('./policyChange')).policyChangeWorkflow(...args);
}

export async function planRevisionClockWorkflow(
  ...args: Parameters<typeof import('./planRevision').planRevisionClockWorkflow>
): ReturnType<typeof import('./planRevision').planRevisionClockWorkflow> {
  return (await import('./planRevision')).planRevisionClockWorkflow(...args);
}

export async function planRevisionWorkflow(
  ...args: Parameters<typeof import('./planRevision').planRevisionWorkflow>
): ReturnType<typeof import('./planRevision').planRevisionWorkflow> {
  return (await import('./planRevision')).planRevisionWorkflow(...args);
}

export async function rectificationItemWorkflow(
  ...args: Parameters<typeof import('./rectificationItem').rectificationItemWorkflow>
): ReturnType<typeof import('./rectificationItem').rectificationItemWorkflow> {
  return (await import('./rectificationItem')).rectificationItemWorkflow(...args);
}

export async function riskAcceptanceWorkflow(
  ...args: Parameters<typeof import('./riskAcceptance').riskAcceptanceWorkflow>
): ReturnType<typeof import('./riskAcceptance').riskAcceptanceWorkflow> {
  return (await import('./riskAcceptance')).riskAcceptanceWorkflow(...args);
}

export async function riskAssessmentLauncherWorkflow(
  ...args: Parameters<typeof import('./riskAssessment').riskAssessmentLauncherWorkflow>
): ReturnType<typeof import('./riskAssessment').riskAssessmentLauncherWorkflow> {
  return (await import('./riskAssessment')).riskAssessmentLauncherWorkflow(...args);
}

export async function riskAssessmentWorkflow(
  ...args: Parameters<typeof import('./riskAssessment').riskAssessmentWorkflow>
): ReturnType<typeof import('./riskAssessment').riskAssessmentWorkflow> {
  return (await import('./riskAssessment')).riskAssessmentWorkflow(...args);
}

export async function riskReportLauncherWorkflow(
  ...args: Parameters<typeof import('./riskReport').riskReportLauncherWorkflow>
): ReturnType<typeof import('./riskReport').riskReportLauncherWorkflow> {
  return (await import('./riskReport')).riskReportLauncherWorkflow(...args);
}

export async function riskReportWorkflow(
  ...args: Parameters<typeof import('./riskReport').riskReportWorkflow>
): ReturnType<typeof import('./riskReport').riskReportWorkflow> {
  return (await import('./riskReport')).riskReportWorkflow(...args);
}

export async function riskWarningWorkflow(
  ...args: Parameters<typeof import('./riskWarning').riskWarningWorkflow>
): ReturnType<typeof import('./riskWarning').riskWarningWorkflow> {
  return (await import('./riskWarning')).riskWarningWorkflow(...args);
}

export async function supplierCampaignWorkflow(
  ...args: Parameters<typeof import('./supplierCampaign').supplierCampaignWorkflow>
): ReturnType<typeof import('./supplierCampaign').supplierCampaignWorkflow> {
  return (await import('./supplierCampaign')).supplierCampaignWorkflow(...args);
}

export async function supplierReviewLauncherWorkflow(
  ...args: Parameters<typeof import('./supplierReview').supplierReviewLauncherWorkflow>
): ReturnType<typeof import('./supplierReview').supplierReviewLauncherWorkflow> {
  return (await import('./supplierReview')).supplierReviewLauncherWorkflow(...args);
}

export async function supplierReviewWorkflow(
  ...args: Parameters<typeof import('./supplierReview').supplierReviewWorkflow>
): ReturnType<typeof import('./supplierReview').supplierReviewWorkflow> {
  return (await import('./supplierReview')).supplierReviewWorkflow(...args);
}

export async function supplierStatusChangeWorkflow(
  ...args: Parameters<typeof import('./supplierStatusChange').supplierStatusChangeWorkflow>
): ReturnType<typeof import('./supplierStatusChange').supplierStatusChangeWorkflow> {
  return (await import('./supplierStatusChange')).supplierStatusChangeWorkflow(...args);
}
