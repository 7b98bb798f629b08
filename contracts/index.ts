/**
 * Every process contract, for what the API derives across processes: the
 * refusal code → status map, the OpenAPI document, the test rows.
 */
import { complaintContract } from './complaint';
import { drillContract } from './drill';
import { incidentContract } from './incident';
import { pdcaContract } from './pdca';
import { planRevisionContract } from './planRevision';
import { policyChangeContract } from './policyChange';
import { auditFindingContract } from './auditFinding';
import { supplierStatusChangeContract } from './supplierStatusChange';
import { auditContract } from './audit';
import { riskAcceptanceContract } from './riskAcceptance';
import { riskWarningContract } from './riskWarning';
import { riskAssessmentContract } from './riskAssessment';
import { riskReportContract } from './riskReport';
import { refusalKinds, type ProcessContract } from './core';
import { taskContract } from './tasks';
import { supplierReviewContract } from './supplierReview';

export const CONTRACTS: readonly ProcessContract[] = [
  taskContract,
  complaintContract,
  incidentContract,
  supplierReviewContract,
  pdcaContract,
  planRevisionContract,
  drillContract,
  policyChangeContract,
  auditFindingContract,
  supplierStatusChangeContract,
  riskAcceptanceContract,
  auditContract,
  riskWarningContract,
  riskAssessmentContract,
  riskReportContract,
];

/** Each refusal code any step may answer with, and how the API answers it. */
export const REFUSAL_KINDS = refusalKinds(CONTRACTS);
