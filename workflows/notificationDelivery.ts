/**
 * Delivery of one notification to the people it concerns, and the daily
 * digest (activities/delivery.ts). Started by the notify activity, never as
 * a case's child: a delivery that keeps failing is recorded as failed, and
 * the case that raised the notification never waits for it or hears of it.
 */
import { ActivityFailure, ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { DeliveryActivities, DeliveryRetry } from '../activities/delivery';

/** Reading and writing delivery records: retried until the database answers. */
const records = proxyActivities<DeliveryActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', backoffCoefficient: 2 },
});

/** Talking to the SMTP server or a chat bot: the retries the settings give (DELIVERY_MAX_ATTEMPTS…). */
function senders(retry: DeliveryRetry) {
  return proxyActivities<DeliveryActivities>({
    startToCloseTimeout: '2 minutes',
    retry: {
      initialInterval: `${retry.initialSeconds} seconds`,
      backoffCoefficient: 2,
      maximumInterval: '1 hour',
      maximumAttempts: retry.maximumAttempts,
    },
  });
}

/** The last attempt's error, as the record keeps it. */
function why(err: unknown): string {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure || cause instanceof Error) return cause.message;
  return String(cause);
}

export async function notificationDeliveryWorkflow(input: {
  notificationId: string;
}): Promise<{ sent: number; failed: number }> {
  const plan = await records.planNotificationDelivery(input);
  const send = senders(plan.retry);
  const outcomes = await Promise.all(
    plan.deliveryIds.map(async (deliveryId) => {
      try {
        await send.sendNotificationDelivery({ deliveryId });
        return 'sent' as const;
      } catch (err) {
        await records.recordDeliveryFailure({ deliveryIds: [deliveryId], why: why(err) });
        return 'failed' as const;
      }
    }),
  );
  return { sent: outcomes.filter((o) => o === 'sent').length, failed: outcomes.filter((o) => o === 'failed').length };
}

/** Once a day (the digest Schedule): one mail per person with the notices queued for them. */
export async function notificationDigestWorkflow(): Promise<{ mails: number; failed: number }> {
  const { batches, retry } = await records.listDigestBatches();
  const send = senders(retry);
  let mails = 0;
  let failed = 0;
  for (const batch of batches) {
    try {
      await send.sendDigest(batch);
      mails += 1;
    } catch (err) {
      await records.recordDeliveryFailure({ deliveryIds: batch.deliveryIds, why: why(err) });
      failed += 1;
    }
  }
  return { mails, failed };
}
