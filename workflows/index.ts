// Every workflow the worker runs. Relative imports only: the workflow bundler
// does not read tsconfig paths.
export { approvalRequestWorkflow } from './approvalRequest';
export { complaintWorkflow } from './complaint';
export { incidentWorkflow } from './incident';
export { rectificationItemWorkflow } from './rectificationItem';
export { supplierReviewLauncherWorkflow, supplierReviewWorkflow } from './supplierReview';
