// Every workflow the worker runs. Relative imports only: the workflow bundler
// does not read tsconfig paths.
export { approvalRequestWorkflow } from './approvalRequest';
export { rectificationItemWorkflow } from './rectificationItem';
export { supplierReviewLauncherWorkflow, supplierReviewWorkflow } from './supplierReview';
