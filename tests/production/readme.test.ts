/**
 * Every README walkthrough, verbatim, against the production profile's API
 * (tests/support/walkthroughs.ts runs them).
 *
 * The walkthroughs use the public demo tokens (`gov_demo_*`), which a
 * production API refuses to start with. This test alone seeds the demo users
 * into the profile's app database — after the API started, so its start-up
 * check passed on a database without them — and revokes their tokens again
 * afterwards, so that the other files may still restart the API.
 */
import { hashToken, revokeTokensOf } from '../../api/auth';
import { openDatabase, type DatabaseHandle } from '../../db/client';
import { DEMO_USERS, seedDemoUsers } from '../../platform/seed';
import { afterAll, beforeAll, expect } from 'vitest';
import { useProduction } from '../support/production';
import { describeReadmeWalkthroughs } from '../support/walkthroughs';

const p = useProduction();
let owner: DatabaseHandle | undefined;

beforeAll(async () => {
  owner = await openDatabase({ url: p.settings.appOwnerDatabaseUrl, poolSize: 1 });
  const seeded = await seedDemoUsers(owner.db);
  expect(seeded.map((u) => u.id).sort()).toEqual(DEMO_USERS.map((u) => u.id).sort());
});

afterAll(async () => {
  if (!owner) return;
  await revokeTokensOf(
    owner.db,
    { tokenHashes: DEMO_USERS.map((u) => hashToken(u.token)) },
    { actorId: 'cli', reason: 'public demo token: the production walkthrough test is done' },
  );
  await owner.close();
});

describeReadmeWalkthroughs('README walkthroughs run verbatim against the production profile', () => ({
  url: p.apiUrl,
}));
