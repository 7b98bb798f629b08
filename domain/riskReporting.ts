/**
 * How often each periodic risk report is generated (风险信息报告, internet-
 * finance manual §5.5: set content, frequency and owner). The frequency of
 * each audience is policy (riskReports.frequency, domain/policy.ts); this
 * module names the frequencies and the period each one reports on. Pure.
 */

/** The frequencies a report can have: one report per calendar month, quarter or year (UTC). */
export const RISK_REPORT_FREQUENCIES = ['monthly', 'quarterly', 'yearly'] as const;
export type RiskReportFrequency = (typeof RISK_REPORT_FREQUENCIES)[number];

/**
 * The period of the frequency that ended last at `now` (UTC), as the report
 * periods are written: 2026-10 (monthly), 2026-Q3 (quarterly), 2025 (yearly).
 */
export function periodJustEnded(frequency: RiskReportFrequency, now: Date): string {
  const year = now.getUTCFullYear();
  const month = now.getUTCMonth(); // 0-based: the current month; the one just ended is month - 1
  if (frequency === 'yearly') return `${year - 1}`;
  if (frequency === 'monthly') {
    return month === 0 ? `${year - 1}-12` : `${year}-${String(month).padStart(2, '0')}`;
  }
  const quarter = Math.floor(month / 3) + 1;
  return quarter === 1 ? `${year - 1}-Q4` : `${year}-Q${quarter - 1}`;
}
