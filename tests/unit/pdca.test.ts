import { describe, expect, it } from 'vitest';
import {
  DEFAULT_ESCALATE_AFTER_CYCLES,
  PDCA_LABELS,
  PDCA_SOURCES,
  PLATFORM_KPIS,
  actionsProblem,
  carryOverKpis,
  checkKpis,
  controlEffectiveness,
  kpisProblem,
  pdcaPlanApprovalBarred,
  pdcaVerificationBarred,
  regressed,
  shouldEscalate,
  type ControlEffectivenessInput,
  type Kpi,
} from '../../domain/pdca';
import { PDCA_STAGES } from '../../contracts/pdca';
import { DEFAULT_POLICY } from '../../domain/policy';

const up: Kpi = {
  key: 'drill_score',
  name: 'Drill score',
  unit: 'pts',
  baseline: 60,
  target: 80,
  direction: 'increase',
};
const down: Kpi = { key: 'sla_breaches', name: 'SLA breaches', baseline: 10, target: 4, direction: 'decrease' };

describe('labels', () => {
  it('labels every source and stage in English and Chinese', () => {
    for (const s of PDCA_SOURCES) expect(PDCA_LABELS.source[s].zh).toBeTruthy();
    for (const s of PDCA_STAGES) expect(PDCA_LABELS.stage[s].en).toBeTruthy();
    expect(PDCA_LABELS.stage.plan.zh).toBe('计划');
    expect(PDCA_LABELS.stage.do.zh).toBe('执行');
    expect(PDCA_LABELS.stage.check.zh).toBe('检查');
    expect(PDCA_LABELS.stage.act.zh).toBe('处理');
    expect(PLATFORM_KPIS).toContain('sla_breaches');
  });
});

describe('kpisProblem', () => {
  it('accepts improving targets in either direction', () => {
    expect(kpisProblem([up, down])).toBeNull();
  });
  it('needs 1 to 20 KPIs', () => {
    expect(kpisProblem([])).toMatch(/1 to 20/);
    expect(kpisProblem('x')).toMatch(/1 to 20/);
    const twenty = Array.from({ length: 20 }, (_, i) => ({ ...up, key: `k${i}` }));
    expect(kpisProblem(twenty)).toBeNull();
    expect(kpisProblem([...twenty, { ...up, key: 'k20' }])).toMatch(/1 to 20/);
  });
  it('refuses a target equal to the baseline, naming the KPI', () => {
    expect(kpisProblem([{ ...up, target: 60 }])).toMatch(/"drill_score".*above/);
    expect(kpisProblem([{ ...down, target: 10 }])).toMatch(/"sla_breaches".*below/);
  });
  it('refuses a target in the wrong direction', () => {
    expect(kpisProblem([{ ...up, target: 50 }])).toMatch(/drill_score/);
    expect(kpisProblem([{ ...down, target: 12 }])).toMatch(/sla_breaches/);
    expect(kpisProblem([{ ...up, direction: 'decrease' }])).toMatch(/below/);
  });
  it('checks key format and uniqueness', () => {
    expect(kpisProblem([{ ...up, key: 'Drill' }])).toMatch(/key/);
    expect(kpisProblem([{ ...up, key: '1x' }])).toMatch(/key/);
    expect(kpisProblem([{ ...up, key: 'a'.repeat(50) }])).toBeNull();
    expect(kpisProblem([{ ...up, key: 'a'.repeat(51) }])).toMatch(/key/);
    expect(kpisProblem([up, { ...down, key: 'drill_score' }])).toMatch(/twice/);
  });
  it('checks name, numbers and direction', () => {
    expect(kpisProblem([{ ...up, name: '  ' }])).toMatch(/drill_score.*name/);
    expect(kpisProblem([{ ...up, baseline: Number.NaN }])).toMatch(/baseline/);
    expect(kpisProblem([{ ...up, target: Infinity }])).toMatch(/target/);
    expect(kpisProblem([{ ...up, target: '80' }])).toMatch(/target/);
    expect(kpisProblem([{ ...up, direction: 'up' }])).toMatch(/direction/);
    expect(kpisProblem([null])).toMatch(/object/);
  });
});

describe('actionsProblem', () => {
  const a = { title: 'Retrain duty officers', ownerId: 'u1' };
  it('accepts 1 to 30 actions with title and owner', () => {
    expect(actionsProblem([a])).toBeNull();
    expect(actionsProblem([{ ...a, dueIn: '30d' }])).toBeNull();
    expect(actionsProblem(Array(30).fill(a))).toBeNull();
  });
  it('refuses empty, too many, blank title or owner, bad due period', () => {
    expect(actionsProblem([])).toMatch(/1 to 30/);
    expect(actionsProblem(Array(31).fill(a))).toMatch(/1 to 30/);
    expect(actionsProblem([{ ...a, title: ' ' }])).toMatch(/title/);
    expect(actionsProblem([{ ...a, ownerId: '' }])).toMatch(/owner/);
    expect(actionsProblem([{ ...a, ownerId: 7 }])).toMatch(/owner/);
    expect(actionsProblem([{ ...a, dueIn: 'soon' }])).toMatch(/action 1/);
  });
});

describe('checkKpis', () => {
  it('counts exactly meeting the target as met, in both directions', () => {
    const { results, allMet, missing } = checkKpis([up, down], { drill_score: 80, sla_breaches: 4 });
    expect(allMet).toBe(true);
    expect(missing).toEqual([]);
    expect(results.map((r) => [r.met, r.gap, r.progress])).toEqual([
      [true, 0, 1],
      [true, 0, 1],
    ]);
    expect(results[0]?.unit).toBe('pts');
  });
  it('applies direction semantics', () => {
    const { results } = checkKpis([up, down], { drill_score: 79, sla_breaches: 5 });
    expect(results.map((r) => r.met)).toEqual([false, false]);
    const beyond = checkKpis([up, down], { drill_score: 90, sla_breaches: 2 });
    expect(beyond.allMet).toBe(true);
    expect(beyond.results.map((r) => r.gap)).toEqual([0, 0]);
  });
  it('reports gaps and progress, beyond either end', () => {
    const { results } = checkKpis([up, down], { drill_score: 70, sla_breaches: 7 });
    expect(results[0]).toMatchObject({ gap: 10, progress: 0.5, actual: 70 });
    expect(results[1]).toMatchObject({ gap: 3, progress: 0.5 });
    const worse = checkKpis([up, down], { drill_score: 50, sla_breaches: 13 }).results;
    expect(worse.map((r) => r.progress)).toEqual([-0.5, -0.5]);
    expect(worse.map((r) => r.gap)).toEqual([30, 9]);
    const over = checkKpis([up], { drill_score: 100 }).results[0];
    expect(over?.progress).toBe(2);
  });
  it('rounds progress to 2 decimals and keeps gaps free of float noise', () => {
    const k: Kpi = { key: 'r', name: 'Rate', baseline: 0.1, target: 0.4, direction: 'increase' };
    const r = checkKpis([k], { r: 0.2 }).results[0];
    expect(r?.progress).toBe(0.33);
    expect(r?.gap).toBe(0.2);
  });
  it('lists missing actuals and then never passes', () => {
    const { results, allMet, missing } = checkKpis([up, down], { drill_score: 85 });
    expect(missing).toEqual(['sla_breaches']);
    expect(results.map((r) => r.key)).toEqual(['drill_score']);
    expect(allMet).toBe(false);
  });
  it('refuses malformed KPIs or actuals', () => {
    expect(() => checkKpis([{ ...up, target: 60 }], { drill_score: 60 })).toThrow(RangeError);
    expect(() => checkKpis([up], { drill_score: Number.NaN })).toThrow(RangeError);
  });
});

describe('carryOverKpis', () => {
  it('carries only unmet KPIs, baseline = actual, same target', () => {
    const { results } = checkKpis([up, down], { drill_score: 72, sla_breaches: 3 });
    const next = carryOverKpis(results);
    expect(next).toEqual([
      { key: 'drill_score', name: 'Drill score', unit: 'pts', baseline: 72, target: 80, direction: 'increase' },
    ]);
    expect(kpisProblem(next)).toBeNull();
  });
  it('carries nothing when all were met', () => {
    expect(carryOverKpis(checkKpis([up], { drill_score: 80 }).results)).toEqual([]);
  });
});

describe('shouldEscalate', () => {
  it('escalates from the (N+1)-th cycle', () => {
    expect(DEFAULT_ESCALATE_AFTER_CYCLES).toBe(3);
    expect(DEFAULT_ESCALATE_AFTER_CYCLES).toBe(DEFAULT_POLICY.pdca.escalateAfterCycles);
    expect(shouldEscalate(1)).toBe(false);
    expect(shouldEscalate(3)).toBe(false);
    expect(shouldEscalate(4)).toBe(true);
    expect(shouldEscalate(2, 1)).toBe(true);
    expect(shouldEscalate(1, 1)).toBe(false);
  });
  it('refuses malformed cycle numbers', () => {
    expect(() => shouldEscalate(0)).toThrow(RangeError);
    expect(() => shouldEscalate(1.5)).toThrow(RangeError);
    expect(() => shouldEscalate(2, 0)).toThrow(RangeError);
  });
});

describe('regressed', () => {
  const { results } = checkKpis([up, down], { drill_score: 85, sla_breaches: 6 }); // up met, down unmet
  it('flags a met KPI that slipped below its target', () => {
    expect(regressed(results, { drill_score: 79, sla_breaches: 6 })).toEqual({
      regressed: true,
      slipped: ['drill_score'],
    });
  });
  it('keeps a met KPI still at its target', () => {
    expect(regressed(results, { drill_score: 80 })).toEqual({ regressed: false, slipped: [] });
  });
  it('ignores KPIs that were never met, and met ones not rechecked', () => {
    expect(regressed(results, { sla_breaches: 20 })).toEqual({ regressed: false, slipped: [] });
  });
  it('uses direction for decrease KPIs', () => {
    const met = checkKpis([down], { sla_breaches: 3 }).results;
    expect(regressed(met, { sla_breaches: 4 }).regressed).toBe(false);
    expect(regressed(met, { sla_breaches: 5 }).slipped).toEqual(['sla_breaches']);
  });
  it('refuses a non-finite recheck value', () => {
    expect(() => regressed(results, { drill_score: Number.NaN })).toThrow(RangeError);
  });
});

describe('controlEffectiveness', () => {
  const base: ControlEffectivenessInput = {
    risks: [{ level: 'low' }, { level: 'high' }, { level: 'medium' }, { level: 'high' }],
    controlsTotal: 3,
    controlsEffective: 2,
    incidents: 4,
    periodDays: 90,
    rectificationOpen: 6,
    rectificationOverdue: 2,
  };
  it('computes level, coverage and rates', () => {
    expect(controlEffectiveness(base)).toEqual({
      riskLevel: 'high',
      coverage: 0.67,
      incidenceRate: 1.33,
      overdueRate: 0.33,
      highRisks: 2,
    });
  });
  it('is low with no risks, full coverage with no controls, 0 overdue with none open', () => {
    const r = controlEffectiveness({
      ...base,
      risks: [],
      controlsTotal: 0,
      controlsEffective: 0,
      rectificationOpen: 0,
      rectificationOverdue: 0,
    });
    expect(r).toMatchObject({ riskLevel: 'low', coverage: 1, overdueRate: 0, highRisks: 0 });
    expect(controlEffectiveness({ ...base, risks: [{ level: 'medium' }, { level: 'low' }] }).riskLevel).toBe('medium');
  });
  it('scales incidents to 30 days', () => {
    expect(controlEffectiveness({ ...base, incidents: 3, periodDays: 30 }).incidenceRate).toBe(3);
    expect(controlEffectiveness({ ...base, incidents: 1, periodDays: 365 }).incidenceRate).toBe(0.08);
    expect(controlEffectiveness({ ...base, incidents: 0 }).incidenceRate).toBe(0);
  });
  it('refuses malformed input', () => {
    expect(() => controlEffectiveness({ ...base, periodDays: 0 })).toThrow(RangeError);
    expect(() => controlEffectiveness({ ...base, controlsEffective: 4 })).toThrow(RangeError);
    expect(() => controlEffectiveness({ ...base, rectificationOverdue: 7 })).toThrow(RangeError);
    expect(() => controlEffectiveness({ ...base, incidents: -1 })).toThrow(RangeError);
    expect(() => controlEffectiveness({ ...base, risks: [{ level: 'severe' as 'high' }] })).toThrow(RangeError);
  });
});

describe('platform KPIs', () => {
  it('are valid KPI keys, so a plan can name them', () => {
    for (const key of PLATFORM_KPIS) {
      expect(kpisProblem([{ key, name: key, baseline: 2, target: 1, direction: 'decrease' }])).toBeNull();
    }
  });
});

describe('segregation of duties', () => {
  it('bars from the plan approval the owner, the opener and every planner', () => {
    expect(pdcaPlanApprovalBarred({ ownerId: 'mgr', initiatorId: 'lead', plannedBy: ['lead', 'p2'] })).toEqual([
      { userId: 'mgr', reasons: ['owns the cycle'] },
      { userId: 'lead', reasons: ['opened the cycle', 'planned it'] },
      { userId: 'p2', reasons: ['planned it'] },
    ]);
  });

  it('bars from the independent verification whoever planned, did the actions or entered the values', () => {
    expect(
      pdcaVerificationBarred({
        ownerId: 'mgr',
        initiatorId: 'mgr',
        plannedBy: ['mgr', 'p'],
        actionOwners: ['a', 'a', 'b'],
        measuredBy: ['m', 'a'],
      }),
    ).toEqual([
      { userId: 'mgr', reasons: ['owns the cycle', 'opened the cycle', 'planned it'] },
      { userId: 'p', reasons: ['planned it'] },
      { userId: 'a', reasons: ['owns one of its actions', 'entered the KPI values'] },
      { userId: 'b', reasons: ['owns one of its actions'] },
      { userId: 'm', reasons: ['entered the KPI values'] },
    ]);
  });

  it('names no one for values the platform computed or a system-opened cycle', () => {
    expect(
      pdcaVerificationBarred({
        ownerId: 'mgr',
        initiatorId: 'system',
        plannedBy: [],
        actionOwners: [],
        measuredBy: [],
      }),
    ).toEqual([{ userId: 'mgr', reasons: ['owns the cycle'] }]);
  });
});
