// Every workflow the worker runs. Relative imports only: the workflow bundler
// does not read tsconfig paths.
export { approvalRequestWorkflow } from './approvalRequest';
export { auditPlanLauncherWorkflow, auditWorkflow } from './audit';
export { auditAnchorWorkflow } from './auditAnchor';
export { auditFindingWorkflow } from './auditFinding';
export { complaintWorkflow } from './complaint';
export { drillProgrammeWorkflow, drillWorkflow } from './drill';
export { incidentWorkflow } from './incident';
export { notificationDeliveryWorkflow, notificationDigestWorkflow } from './notificationDelivery';
export { pdcaCycleWorkflow } from './pdca';
export { policyChangeWorkflow } from './policyChange';
export { planRevisionClockWorkflow, planRevisionWorkflow } from './planRevision';
export { rectificationItemWorkflow } from './rectificationItem';
export { riskAcceptanceWorkflow } from './riskAcceptance';
export { riskAssessmentLauncherWorkflow, riskAssessmentWorkflow } from './riskAssessment';
export { riskReportLauncherWorkflow, riskReportWorkflow } from './riskReport';
export { riskWarningWorkflow } from './riskWarning';
export { supplierCampaignWorkflow } from './supplierCampaign';
export { supplierReviewLauncherWorkflow, supplierReviewWorkflow } from './supplierReview';
export { supplierStatusChangeWorkflow } from './supplierStatusChange';
