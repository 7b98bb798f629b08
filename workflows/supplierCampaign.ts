/**
 * The annual supplier review campaign (contracts/supplierCampaign.ts): lists
 * the suppliers, starts the year's review of each reviewable one a batch at a
 * time, and keeps its progress in a query and in its read-model row. A crash
 * mid-campaign resumes at the batch it was in, and a review is started once
 * per supplier and year however often a batch is retried.
 */
import { condition, patched, setHandler } from '@temporalio/workflow';
import {
  CAMPAIGN_ANSWER_AFTER,
  CAMPAIGN_BATCH_SIZE,
  CAMPAIGN_LISTING_PAGE,
  campaignProgress,
  campaignProgressQuery,
  campaignStartedUpdate,
  CAMPAIGN_PROGRESS_LIST,
  SUPPLIER_CAMPAIGN_PROCESS,
  supplierCampaignId,
  type CampaignProgress,
  type CampaignRecord,
} from '../contracts/supplierCampaign';
import { supplierReviewContract, supplierReviewKey } from '../contracts/supplierReview';
import { reviewStatusProblem } from '../domain/supplierReview';
import { caseSnapshotQuery } from './definitions';
import { acts } from './shared/activities';
import { CaseRuntime } from './shared/caseRuntime';
import type { SupplierReviewInput } from './supplierReview';

/**
 * patched() id: each activity takes four batches' worth of suppliers and keeps
 * CAMPAIGN_BATCH_SIZE starts in flight across them, instead of one batch whose
 * slowest start holds the next (campaigns recorded before run one batch each).
 */
const CAMPAIGN_LARGER_SLICES = 'campaign-larger-slices';
const SLICE_BATCHES = 4;
/**
 * patched() id: the suppliers are listed a page at a time
 * (CAMPAIGN_LISTING_PAGE), not in one activity result that grows with them
 * (campaigns recorded before list them in one).
 */
const CAMPAIGN_PAGED_LISTING = 'campaign-paged-listing';

export interface SupplierCampaignInput {
  year: number;
  /** Who ran it: the initiator of every review it starts. */
  initiatorId: string;
  timings?: SupplierReviewInput['timings'];
  /** Suppliers per listing read; default CAMPAIGN_LISTING_PAGE. */
  listingPageSize?: number;
  /** Started and skipped suppliers the progress lists; default CAMPAIGN_PROGRESS_LIST. */
  progressList?: number;
}

/** Every supplier with its status, by id, read a page at a time (or at once, as campaigns recorded before did). */
async function listSuppliers(pageSize: number) {
  if (!patched(CAMPAIGN_PAGED_LISTING)) return acts.listCampaignSuppliers();
  const all: Awaited<ReturnType<typeof acts.listCampaignSuppliers>> = [];
  let after: string | null = null;
  do {
    const page = await acts.listCampaignSuppliersPage({ after, limit: pageSize });
    all.push(...page.suppliers);
    after = page.next;
  } while (after !== null);
  return all;
}

export async function supplierCampaignWorkflow(input: SupplierCampaignInput): Promise<CampaignProgress> {
  const progress: CampaignRecord = { year: input.year, status: 'running', total: 0, started: [], skipped: [] };
  /** How much of the progress the read model shows: queries and the answer never say more. */
  const recorded = { status: progress.status, total: 0, started: 0, skipped: 0 };
  const listed = Math.max(0, Math.floor(input.progressList ?? CAMPAIGN_PROGRESS_LIST));
  const shown = (): CampaignProgress =>
    campaignProgress(
      {
        year: input.year,
        status: recorded.status,
        total: recorded.total,
        started: progress.started.slice(0, recorded.started),
        skipped: progress.skipped.slice(0, recorded.skipped),
      },
      listed,
    );

  const caseRuntime = new CaseRuntime({
    caseId: supplierCampaignId(input.year),
    process: SUPPLIER_CAMPAIGN_PROCESS,
    businessKey: String(input.year),
    title: `Supplier review campaign ${input.year}`,
    stage: 'running',
    initiatorId: input.initiatorId,
    data: progress,
  });
  setHandler(caseSnapshotQuery, () => caseRuntime.snapshot());
  setHandler(campaignProgressQuery, shown);
  setHandler(campaignStartedUpdate, async () => {
    await condition(() => recorded.status === 'done' || recorded.started + recorded.skipped >= CAMPAIGN_ANSWER_AFTER);
    return shown();
  });

  const counted = () => ({ started: progress.started.length, skipped: progress.skipped.length });
  const record = async (action: string) => {
    const counts = { status: progress.status, total: progress.total, ...counted() };
    await caseRuntime.recordData(action, {
      actorId: 'system',
      data: progress,
      payload: { started: counts.started, skipped: counts.skipped, total: counts.total },
    });
    Object.assign(recorded, counts);
  };
  const reviewId = (supplierId: string) => supplierReviewContract.caseId(supplierReviewKey(supplierId, input.year));

  await caseRuntime.open();
  const suppliers = await listSuppliers(Math.max(1, Math.floor(input.listingPageSize ?? CAMPAIGN_LISTING_PAGE)));
  progress.total = suppliers.length;
  const reviewable: string[] = [];
  for (const { supplierId, status } of suppliers) {
    const problem = reviewStatusProblem(status);
    if (problem)
      progress.skipped.push({ supplierId, caseId: reviewId(supplierId), reason: 'not_reviewable', message: problem });
    else reviewable.push(supplierId);
  }
  await record('campaign.suppliers_listed');

  const slice = patched(CAMPAIGN_LARGER_SLICES) ? CAMPAIGN_BATCH_SIZE * SLICE_BATCHES : CAMPAIGN_BATCH_SIZE;
  for (let i = 0; i < reviewable.length; i += slice) {
    const outcomes = await acts.startCampaignReviews({
      year: input.year,
      initiatorId: input.initiatorId,
      timings: input.timings,
      supplierIds: reviewable.slice(i, i + slice),
    });
    for (const outcome of outcomes) {
      if (outcome.started) progress.started.push({ supplierId: outcome.supplierId, caseId: outcome.caseId });
      else {
        const { supplierId, caseId, reason, message } = outcome;
        progress.skipped.push({ supplierId, caseId, reason, message });
      }
    }
    await record('campaign.batch_started');
  }

  // The close writes the final progress, and the start call answers only after it (and, in the same
  // workflow task, the campaign's completion): a second call then finds the campaign finished.
  progress.status = 'done';
  const counts = { status: progress.status, total: progress.total, ...counted() };
  await caseRuntime.close('completed', {
    actorId: 'system',
    reason: `${counts.started} reviews started, ${counts.skipped} skipped`,
    data: progress,
    payload: { started: counts.started, skipped: counts.skipped, total: counts.total },
    written: () => Object.assign(recorded, counts),
  });
  // The result is the progress, not the record: its lists would pass Temporal's 2 MB limit at about
  // 22,000 suppliers and fail the campaign at its very end.
  return shown();
}
