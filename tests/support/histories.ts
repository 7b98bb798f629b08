/**
 * Recorded workflow histories for the replay test. They are append-only
 * (tests/fixtures/histories/README.md): `npm run test:record`
 * (RECORD_HISTORIES=1) writes the fixtures that do not exist yet and never
 * overwrites one; otherwise saving does nothing.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { Harness } from './harness';

export const HISTORY_FIXTURES = path.resolve(import.meta.dirname, '../fixtures/histories');

export async function saveHistoryFixture(h: Harness, workflowId: string, name: string): Promise<void> {
  if (process.env.RECORD_HISTORIES !== '1') return;
  const file = path.join(HISTORY_FIXTURES, `${name}.json`);
  if (existsSync(file)) return;
  const history = await h.temporal.workflow.getHandle(workflowId).fetchHistory();
  mkdirSync(HISTORY_FIXTURES, { recursive: true });
  // The history in proto3 JSON (the format of `temporal workflow show
  // --output json`), with the workflow id it ran under: ids derived from it
  // (task ids) must match on replay.
  const fixture = { workflowId, history: JSON.parse(historyToJSON(history)) };
  writeFileSync(file, JSON.stringify(fixture, null, 1));
}

/**
 * The steps people took that a workflow's history shows as accepted Updates.
 * `settled` is left out: it changes nothing, and every start and item step
 * sends one so that the caller can read its own writes.
 */
export async function acceptedSteps(h: Pick<Harness, 'temporal'>, workflowId: string): Promise<string[]> {
  const history = await h.temporal.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? [])
    .map((e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name)
    .filter((name): name is string => !!name && name !== 'settled');
}
