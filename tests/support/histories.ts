/**
 * Recorded workflow histories for the replay test. Set RECORD_HISTORIES=1 to
 * (re)write the fixtures from a test run; otherwise this does nothing.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Harness } from './harness';

export const HISTORY_FIXTURES = path.resolve(import.meta.dirname, '../fixtures/histories');

export async function saveHistoryFixture(h: Harness, workflowId: string, name: string): Promise<void> {
  if (process.env.RECORD_HISTORIES !== '1') return;
  const history = await h.temporal.workflow.getHandle(workflowId).fetchHistory();
  mkdirSync(HISTORY_FIXTURES, { recursive: true });
  writeFileSync(path.join(HISTORY_FIXTURES, `${name}.json`), JSON.stringify({ workflowId, history }, null, 2));
}
