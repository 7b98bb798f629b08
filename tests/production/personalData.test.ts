/**
 * Temporal's own database holds no clear personal data from a case: a
 * complaint names a distinctive person, then every table of the `temporal`
 * and `temporal_visibility` databases — history blobs included — is searched
 * for that name. Depends on the payload codec (platform/codec.ts,
 * GOVERNANCE_CODEC_KEYS, which the profile sets): without it the name lies
 * in clear in the history and this test fails. A refusal Temporal records
 * (its failure's message) is searched for the same way: without the failure
 * converter (platform/failureConverter.cjs) the message lies in clear beside
 * its sealed details.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { useProduction, type Production } from '../support/production';

const p = useProduction();

/** Tables and columns of `database` whose content contains `needle` (bytea searched as UTF-8 bytes). */
async function whereFound(p: Production, database: string, needle: string): Promise<string[]> {
  const columns = await p.admin<{ table_name: string; column_name: string; data_type: string }>(
    database,
    `select table_name, column_name, data_type from information_schema.columns
      where table_schema = 'public' and data_type in ('bytea', 'text', 'character varying', 'jsonb', 'json')`,
  );
  const found: string[] = [];
  for (const c of columns) {
    const column = `"${c.column_name}"`;
    const test =
      c.data_type === 'bytea' ? `position(convert_to($1, 'UTF8') in ${column}) > 0` : `strpos(${column}::text, $1) > 0`;
    const [row] = await p.admin(database, `select count(*)::int as n from "${c.table_name}" where ${test}`, [needle]);
    if (row.n > 0) found.push(`${c.table_name}.${c.column_name} (${row.n})`);
  }
  return found;
}

describe('personal data in Temporal (depends on the payload codec)', () => {
  it("a complainant's name is nowhere in Temporal's databases, history blobs included", async () => {
    const name = `Quan Ximeng ${randomBytes(4).toString('hex')}`;
    const complaintId = p.unique('CMP');
    const accepted = await p.api('POST', '/api/complaints', {
      as: 'manager',
      json: {
        complaintId,
        customerRef: 'CUST-PD-1',
        channel: 'hotline',
        type: 'transaction_dispute',
        subject: `Refund for ${name}`,
        description: `${name} called twice about a refund that never arrived.`,
      },
    });
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(201);
    const step = await p.api('POST', `/api/complaints/${complaintId}/investigation`, {
      as: 'manager',
      json: { findings: `${name}'s refund file was rejected by the bank` },
    });
    expect(step.status, JSON.stringify(step.body)).toBe(200);

    // The name went through: the app's read model holds it (where access control applies).
    const [row] = await p.sql(
      `select count(*)::int as n from cases where strpos(data::text || coalesce(title, ''), $1) > 0`,
      [name],
    );
    expect(row.n).toBe(1);
    // The search reads the blobs: the task queue's name is in clear in them.
    const databases = await p.databases();
    expect(
      (await whereFound(p, databases.temporal, p.settings.taskQueue)).some((f) => f.startsWith('history_node.data')),
    ).toBe(true);

    expect(await whereFound(p, databases.temporal, name)).toEqual([]);
    expect(await whereFound(p, databases.visibility, name)).toEqual([]);
  });

  it("a refusal's message, recorded in the case's history, is nowhere in Temporal's databases", async () => {
    const complaintId = p.unique('CMP');
    const accepted = await p.api('POST', '/api/complaints', {
      as: 'manager',
      json: { complaintId, customerRef: 'CUST-PD-2', channel: 'hotline', type: 'transaction_dispute', subject: 'Card' },
    });
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(201);
    // Refused after the step was accepted (the incident id is taken, found as the complaint starts it):
    // the refusal is written to the complaint's history, unlike a validator's.
    const report = {
      incidentId: p.unique('INC'),
      category: 'transaction_fraud',
      system: 'cards',
      occurredAt: new Date(Date.now() - 3_600_000).toISOString(),
      impact: { affectedUsers: 2, amountCny: 300 },
    };
    const first = await p.api('POST', '/api/incidents', {
      as: 'manager',
      json: { ...report, title: 'Reported first' },
    });
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    const taken = await p.api('POST', `/api/complaints/${complaintId}/raise-incident`, { as: 'manager', json: report });
    expect(taken.status, JSON.stringify(taken.body)).toBe(409);
    const message: string = taken.body.error.message;
    expect(taken.body.error).toMatchObject({
      reason: 'INCIDENT_EXISTS',
      message: `incident ${report.incidentId} already exists`,
    });

    const databases = await p.databases();
    // What is searched is there: the complaint's history names the refusal's type in clear.
    expect(
      (await whereFound(p, databases.temporal, 'INCIDENT_EXISTS')).some((f) => f.startsWith('history_node.data')),
    ).toBe(true);
    expect(await whereFound(p, databases.temporal, message)).toEqual([]);
    expect(await whereFound(p, databases.visibility, message)).toEqual([]);
  });
});
