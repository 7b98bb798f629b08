/**
 * Replays recorded histories of the shared workflows with the current code.
 * A change that would break cases already running (a year-long review, an
 * overdue rectification) fails here with a non-determinism error; such a
 * change needs `patched()`. Fixtures: `npm run test:record`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { describe, expect, inject, it } from 'vitest';
import { HISTORY_FIXTURES } from '../support/histories';
import { replayDataConverter } from '../support/codecKeys';

const fixtures = readdirSync(HISTORY_FIXTURES).filter((f) => f.endsWith('.json') && f !== 'MANIFEST.json');

describe('replay of recorded histories', () => {
  it('has fixtures for the approval step, rectification items, supplier reviews, incidents, complaints, drills, plan revisions, the revision clock, PDCA cycles and the supplier campaign', () => {
    expect(fixtures).toEqual(
      expect.arrayContaining([
        'approval-approved.json',
        'approval-four-eyes.json',
        'approval-expired.json',
        'approval-with-conditions.json',
        'rectification-returned-resubmitted.json',
        'supplier-review-approved.json',
        'supplier-review-blacklisted.json',
        'incident-grade-I.json',
        'drill-with-findings.json',
        'plan-revision-published.json',
        'pdca-standardised.json',
        'complaint-breaches-resolved.json',
        'plan-revision-clock-due.json',
        'supplier-campaign-done.json',
        'supplier-review-launcher.json',
        'drill-programme.json',
        'incident-closed-by-last-decision.json',
        'audit-anchor.json',
      ]),
    );
  });

  it.each(fixtures)('%s replays without non-determinism', async (file) => {
    const fixture = JSON.parse(readFileSync(path.join(HISTORY_FIXTURES, file), 'utf8'));
    const history = historyFromJSON(fixture.history);
    expect(history.events?.length).toBeGreaterThan(5);
    await Worker.runReplayHistory(
      { workflowBundle: { codePath: inject('workflowBundlePath') }, dataConverter: replayDataConverter },
      history,
      fixture.workflowId,
    );
  });
});
