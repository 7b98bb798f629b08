/**
 * One open case of each process, started through the API as a user would:
 * what tests that walk every process (the derived contract rows) start from.
 * Built on the stage drivers of ./drive; every call answers once its effect
 * can be read, so nothing here polls.
 */
import { expect } from 'vitest';
import { createDriver, creditCodes } from './drive';
import type { Harness } from './harness';

export interface OpenCase {
  /** The id the routes take: a business key or the case id. */
  key: string;
  caseId: string;
}

/** Credit codes of this module (prefix 91440300MA3); other files use MA1 and MA2, bad input 91110000MA3. */
const creditCode = creditCodes('91440300MA3');
/**
 * The quarter the risk assessment opener opens. Assessment workflow ids are
 * keyed by period and the dev server is shared by every file of the run, so
 * each file that opens one names its own quarter (see useAssessmentPeriod).
 */
let assessmentPeriod = '1998-Q1';
export const useAssessmentPeriod = (period: string) => {
  assessmentPeriod = period;
};
const drivers = new WeakMap<Harness, ReturnType<typeof createDriver>>();
const driverOf = (h: Harness) => {
  if (!drivers.has(h)) drivers.set(h, createDriver(h, { label: 'Contract', creditCode }));
  return drivers.get(h)!;
};

/** Each process's first stage, its case owned by `mgr` (or handled by `owner` for complaints). */
export const openCaseOf: Record<string, (h: Harness) => Promise<OpenCase>> = {
  risk_assessment: async (h) => {
    // A risk owned by `owner`, then an assessment of a quarter of its own (one case per period per database).
    const riskKey = `RISK-${h.unique('CT').toUpperCase()}`;
    const risk = await h.api('POST', '/api/risks', {
      as: 'lead',
      json: {
        riskKey,
        title: 'Contract risk',
        category: 'technical',
        description: 'd',
        cause: 'c',
        consequence: 'q',
        ownerId: 'owner',
        lineOfDefence: 'first',
        inherent: { probability: 4, impact: 5 },
        residual: { probability: 2, impact: 3 },
      },
    });
    expect(risk.status, JSON.stringify(risk.body)).toBe(201);
    const period = assessmentPeriod;
    const res = await h.api('POST', '/api/risk-assessments', { as: 'lead', json: { period } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return { key: period, caseId: res.body.caseId };
  },
  risk_warning: async (h) => {
    // A general warning at acknowledgement: its indicator owned by `mgr`, posted by the risk service user (appr1).
    const kriKey = h.unique('KRI');
    const kri = await h.api('POST', '/api/kris', {
      as: 'lead',
      json: {
        kriKey,
        name: 'Contract indicator',
        direction: 'above',
        thresholds: { general: 10, elevated: 20, major: 30 },
        ownerId: 'mgr',
      },
    });
    expect(kri.status, JSON.stringify(kri.body)).toBe(201);
    const alertKey = h.unique('ALERT');
    const res = await h.api('POST', `/api/kris/${kriKey}/observations`, {
      as: 'approver',
      json: { alertKey, value: 12, observedAt: new Date().toISOString() },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return { key: `${kriKey}:${alertKey}`, caseId: res.body.warning.caseId };
  },
  audit: async (h) => {
    // Owned by `owner`; the respond step's example names finding F1 of that owner.
    const auditKey = h.unique('AUD');
    const res = await h.api('POST', '/api/audits', {
      as: 'internalAudit',
      json: { auditKey, type: 'security', title: 'Contract audit', scope: 'All', auditeeOwnerId: 'owner' },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return { key: auditKey, caseId: res.body.caseId };
  },
  complaint: async (h) => {
    const { complaintId, caseId } = await driverOf(h).complaintAt('investigating');
    return { key: complaintId, caseId };
  },
  incident: async (h) => {
    const { incidentId, caseId } = await driverOf(h).incidentAt('reported');
    return { key: incidentId, caseId };
  },
  pdca: async (h) => {
    const cycleKey = h.unique('PDCA');
    // No check date in these tests' lifetime: the cycle stays where its steps put it.
    const { checkIn: _checkIn, ...json } = driverOf(h).cycleBody(cycleKey, { source: 'kpi_gap' });
    const res = await h.api('POST', '/api/improvement-cycles', { as: 'lead', json });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return { key: cycleKey, caseId: res.body.caseId };
  },
  supplier_review: async (h) => {
    const drive = driverOf(h);
    const { caseId } = await drive.reviewAt('documents', await drive.registerSupplier(), 2026);
    return { key: caseId, caseId };
  },
  drill: async (h) => {
    const drive = driverOf(h);
    const { caseId } = await drive.drillAt('planning', await drive.publishPlan(), 2026);
    return { key: caseId, caseId };
  },
};
