/** The PDCA check's platform KPIs (db/kpis.ts), read when the check falls due. */
import type { Database } from '../db/client';
import { platformKpis } from '../db/kpis';

export function createPdcaActivities(deps: { db: Database; clock?: () => Date }) {
  return {
    async computePlatformKpis(input: { keys: string[] }): Promise<Record<string, number>> {
      return platformKpis(deps.db, input.keys, (deps.clock ?? (() => new Date()))());
    },
  };
}
