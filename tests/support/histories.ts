/**
 * Recorded workflow histories for the replay test. `npm run test:record`
 * (RECORD_HISTORIES=1) rewrites the fixtures from a test run; otherwise
 * saving does nothing.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { Harness } from './harness';

export const HISTORY_FIXTURES = path.resolve(import.meta.dirname, '../fixtures/histories');

export async function saveHistoryFixture(h: Harness, workflowId: string, name: string): Promise<void> {
  if (process.env.RECORD_HISTORIES !== '1') return;
  const history = await h.temporal.workflow.getHandle(workflowId).fetchHistory();
  mkdirSync(HISTORY_FIXTURES, { recursive: true });
  // The history in proto3 JSON (the format of `temporal workflow show
  // --output json`), with the workflow id it ran under: ids derived from it
  // (task ids) must match on replay.
  const fixture = { workflowId, history: JSON.parse(historyToJSON(history)) };
  writeFileSync(path.join(HISTORY_FIXTURES, `${name}.json`), JSON.stringify(fixture, null, 1));
}
