/**
 * The annual supplier review campaign (年度供应商审核): one workflow per year
 * that starts the year's review of every reviewable supplier, a batch at a
 * time, and reports what it started and what it skipped, and why. It has no
 * human step; the API starts it and reads its progress.
 *
 * Idempotent per year: the campaign's id is supplier-campaign:<year>, so a
 * second call while it runs joins it, and one after it finished gets the same
 * campaign back, from its read-model row. Only a campaign that failed or was
 * terminated runs again; each review is started once per supplier and year
 * whoever starts it, so the rerun skips what the first run started. A
 * supplier who becomes reviewable after the campaign has its review started
 * on its own (POST /api/supplier-reviews).
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';

export const SUPPLIER_CAMPAIGN_PROCESS = 'supplier_campaign';
export const supplierCampaignId = (year: number) => `supplier-campaign:${year}`;

/** How many reviews a batch starts at once: a campaign over thousands of suppliers opens no thousands of starts. */
export const CAMPAIGN_BATCH_SIZE = 16;
/**
 * The start call answers once the campaign is done, or once it has gone
 * through this many suppliers (then with status 'running'): a campaign over
 * thousands of suppliers does not hold an HTTP request for minutes.
 */
export const CAMPAIGN_ANSWER_AFTER = 256;
/**
 * How many suppliers one listing read returns (policy default; the handbooks
 * give no number). Each page is an activity result in the campaign's
 * history: 1,000 suppliers are about 54 KB, where the whole list of 10,000
 * in one result was 540 KB, past Temporal's 512 KB warning, and about 38,000
 * would have passed its 2 MB limit and failed the campaign.
 */
export const CAMPAIGN_LISTING_PAGE = 1000;

export const CAMPAIGN_SKIP_REASONS = ['already_exists', 'not_reviewable', 'not_found'] as const;
export type CampaignSkipReason = (typeof CAMPAIGN_SKIP_REASONS)[number];

export interface CampaignStarted {
  supplierId: string;
  caseId: string;
}
export interface CampaignSkipped {
  supplierId: string;
  caseId: string;
  reason: CampaignSkipReason;
  message: string;
}

/**
 * Everything the campaign did, in the order it did it: its read-model row's
 * data (written as deltas, so its history stays linear in the suppliers).
 * GET /api/supplier-reviews/campaigns/{year}/suppliers pages through it.
 */
export interface CampaignRecord extends Record<string, unknown> {
  year: number;
  status: 'running' | 'done';
  /** Suppliers the campaign went through: started + skipped when done. */
  total: number;
  started: CampaignStarted[];
  skipped: CampaignSkipped[];
}

/**
 * How many of each list the progress shows (policy default): its first
 * started and skipped suppliers, the rest by their counts. The progress is a
 * query answer, the start call's update answer and the workflow's result,
 * each held to Temporal's 2 MB payload limit: with the whole lists it was
 * 560 KB at 6,300 suppliers, and about 22,000 would have failed the
 * campaign at its completion.
 */
export const CAMPAIGN_PROGRESS_LIST = 100;

/** What the campaign has done, of bounded size whatever the number of suppliers. */
export interface CampaignProgress extends Record<string, unknown> {
  year: number;
  status: 'running' | 'done';
  /** Suppliers the campaign goes through: startedCount + skippedCount when done. */
  total: number;
  startedCount: number;
  skippedCount: number;
  skippedByReason: Record<CampaignSkipReason, number>;
  /** The first CAMPAIGN_PROGRESS_LIST started, in the order they were. */
  started: CampaignStarted[];
  /** The first CAMPAIGN_PROGRESS_LIST skipped, in the order they were. */
  skipped: CampaignSkipped[];
}

/** The progress of a campaign's record: counts of everything, the first `shown` of each list. */
export function campaignProgress(record: CampaignRecord, shown = CAMPAIGN_PROGRESS_LIST): CampaignProgress {
  const skippedByReason = Object.fromEntries(CAMPAIGN_SKIP_REASONS.map((r) => [r, 0])) as Record<
    CampaignSkipReason,
    number
  >;
  for (const { reason } of record.skipped) skippedByReason[reason] += 1;
  return {
    year: record.year,
    status: record.status,
    total: record.total,
    startedCount: record.started.length,
    skippedCount: record.skipped.length,
    skippedByReason,
    started: record.started.slice(0, shown),
    skipped: record.skipped.slice(0, shown),
  };
}

/** The progress the read model shows, kept as the workflow's state. */
export const campaignProgressQuery = defineQuery<CampaignProgress>('campaignProgress');
/**
 * Sent with the campaign's start (update-with-start): answers with the
 * progress once the read model shows it, when the campaign is done or has
 * gone through CAMPAIGN_ANSWER_AFTER suppliers.
 */
export const campaignStartedUpdate = defineUpdate<CampaignProgress, []>('campaignStarted');
