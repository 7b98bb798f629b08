/**
 * Temporal's own database holds no clear personal data from a case: a
 * complaint names a distinctive person, then every table of the `temporal`
 * and `temporal_visibility` databases — history blobs included — is searched
 * for that name. Depends on the payload codec (platform/codec.ts,
 * GOVERNANCE_CODEC_KEYS, which the profile sets): without it the name lies
 * in clear in the history and this test fails.
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
});
