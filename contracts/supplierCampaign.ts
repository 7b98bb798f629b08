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

export type CampaignSkipReason = 'already_exists' | 'not_reviewable' | 'not_found';

export interface CampaignProgress extends Record<string, unknown> {
  year: number;
  status: 'running' | 'done';
  /** Suppliers the campaign went through: started + skipped when done. */
  total: number;
  started: Array<{ supplierId: string; caseId: string }>;
  skipped: Array<{ supplierId: string; caseId: string; reason: CampaignSkipReason; message: string }>;
}

/** The progress the read model shows, kept as the workflow's state. */
export const campaignProgressQuery = defineQuery<CampaignProgress>('campaignProgress');
/**
 * Sent with the campaign's start (update-with-start): answers with the
 * progress once the read model shows it, when the campaign is done or has
 * gone through CAMPAIGN_ANSWER_AFTER suppliers.
 */
export const campaignStartedUpdate = defineUpdate<CampaignProgress, []>('campaignStarted');
