/**
 * Backup and restore, as an operator would do it: pg_dump of Temporal's two
 * databases and of the app database (custom format), restored into fresh
 * databases, the Temporal server, the worker and the API started on those;
 * every case that was open resumes (its next step completes) and the audit
 * chain verifies.
 *
 * Order matters: Temporal's databases are dumped first, the app's last. The
 * audit chain's anchors live in Temporal; an app dump older than Temporal's
 * would miss anchored events and `verify` would rightly call it truncated.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { useProduction } from '../support/production';
import { expectClosed, expectHistoriesOnce, expectNothingDoubled, send, type DrivenCase } from './cases';

const p = useProduction();
const enc = encodeURIComponent;
const dumps = mkdtempSync(path.join(tmpdir(), 'gov-backup-'));
afterAll(() => rmSync(dumps, { recursive: true, force: true }));

const evidenceForm = () => {
  const form = new FormData();
  form.append('file', new Blob(['restored evidence'], { type: 'text/plain' }), 'evidence.txt');
  return form;
};

describe('backup and restore', () => {
  it('dump, restore into fresh databases, start on them: every open case resumes and the chain verifies', async () => {
    // Open cases, each waiting for a person at a different step.
    const awaitingDecision = await send(p, 'start', 'POST', '/api/cases/approval-requests', {
      as: 'manager',
      json: { requestKey: p.unique('BK'), title: 'Open across a restore', probability: 2, impact: 3, ownerId: 'owner' },
    });
    const fourEyes = await send(p, 'start', 'POST', '/api/cases/approval-requests', {
      as: 'manager',
      json: { requestKey: p.unique('BK'), title: 'Half-approved across a restore', probability: 4, impact: 5 },
    });
    const fourEyesTask = `${fourEyes.body.caseId}:approval`;
    expect(
      (
        await send(p, 'vote', 'POST', `/api/tasks/${enc(fourEyesTask)}/decision`, {
          as: 'approver',
          json: { decision: 'approve' },
        })
      ).status,
    ).toBe(200);
    const finding = await send(p, 'start', 'POST', '/api/audit-findings', {
      as: 'internalAudit',
      json: {
        findingKey: p.unique('BK'),
        title: 'Rectification open across a restore',
        description: 'Backups of the access logs are not tested',
        severity: 'medium',
        area: 'data_security',
        remedy: 'rectification',
        ownerId: 'owner',
      },
    });
    for (const started of [awaitingDecision, fourEyes, finding])
      expect(started.status, JSON.stringify(started.body)).toBe(201);

    const before = await p.databases();
    const bin = (name: string) => path.join(p.settings.pgBinDir, name);
    const url = (database: string) => {
      const u = new URL(p.settings.adminUrl);
      u.pathname = `/${database}`;
      return u.toString();
    };
    const started = Date.now();
    const order = [before.temporal, before.visibility, before.app];
    for (const database of order) {
      execFileSync(bin('pg_dump'), [
        '--format=custom',
        `--file=${path.join(dumps, `${database}.dump`)}`,
        url(database),
      ]);
    }
    const dumpedMs = Date.now() - started;

    // Restore as an operator would: the stack stopped, the databases dropped and
    // created fresh under their own names (Temporal's schema_version rows name
    // their database), the dumps restored, the stack started on them.
    let restoredMs = 0;
    let restartMs = 0;
    const oids = async () =>
      (
        await p.admin('postgres', 'select datname, oid from pg_database where datname = any($1) order by datname', [
          order,
        ])
      ).map((r) => `${r.datname}:${r.oid}`);
    const oidsBefore = await oids();
    await p.withStackStopped(async () => {
      const restoring = Date.now();
      for (const database of order) await p.admin('postgres', `drop database ${database} with (force)`);
      await p.admin('postgres', `create database ${before.temporal} owner temporal`);
      await p.admin('postgres', `create database ${before.visibility} owner temporal`);
      // Database-level grants are not in a dump: the app database is set up as at installation.
      await p.admin('postgres', `create database ${before.app} owner governance_owner`);
      await p.admin('postgres', `revoke all on database ${before.app} from public`);
      await p.admin('postgres', `grant connect, temporary on database ${before.app} to governance_app`);
      for (const database of order) {
        execFileSync(bin('pg_restore'), [
          '--exit-on-error',
          `--dbname=${url(database)}`,
          path.join(dumps, `${database}.dump`),
        ]);
      }
      restoredMs = Date.now() - restoring;
      restartMs = Date.now();
    });
    restartMs = Date.now() - restartMs;
    // Fresh databases: new oids, same names.
    const oidsAfter = await oids();
    expect(oidsAfter).toHaveLength(3);
    for (const oid of oidsAfter) expect(oidsBefore).not.toContain(oid);

    // Every open case resumes: its next step completes, then the case ends.
    const calls: DrivenCase['calls'] = [];
    const caseId: string = awaitingDecision.body.caseId;
    expect(
      (
        await send(
          p,
          'decision',
          'POST',
          `/api/tasks/${enc(`${caseId}:approval`)}/decision`,
          {
            as: 'approver',
            json: { decision: 'approve_with_conditions', conditions: ['Test the restore quarterly'] },
          },
          calls,
        )
      ).status,
    ).toBe(200);
    const item = `${caseId}:rectification:1`;
    const evidence = await send(
      p,
      'evidence',
      'POST',
      `/api/cases/${enc(caseId)}/evidence`,
      { as: 'owner', form: evidenceForm },
      calls,
    );
    expect(evidence.status).toBe(201);
    expect(
      (
        await send(
          p,
          'submission',
          'POST',
          `/api/tasks/${enc(item)}/submission`,
          { as: 'owner', json: { evidenceIds: [evidence.body.id] } },
          calls,
        )
      ).status,
    ).toBe(200);
    expect(
      (
        await send(
          p,
          'verification',
          'POST',
          `/api/tasks/${enc(item)}/verification`,
          { as: 'approver2', json: { verdict: 'accept' } },
          calls,
        )
      ).status,
    ).toBe(200);

    expect(
      (
        await send(
          p,
          'second vote',
          'POST',
          `/api/tasks/${enc(fourEyesTask)}/decision`,
          { as: 'approver2', json: { decision: 'approve' } },
          calls,
        )
      ).status,
    ).toBe(200);

    const findingCase: string = finding.body.caseId;
    const findingItem: string = finding.body.remedyCaseId;
    const findingEvidence = await send(
      p,
      'evidence',
      'POST',
      `/api/cases/${enc(findingCase)}/evidence`,
      { as: 'owner', form: evidenceForm },
      calls,
    );
    expect(
      (
        await send(
          p,
          'submission',
          'POST',
          `/api/tasks/${enc(findingItem)}/submission`,
          { as: 'owner', json: { evidenceIds: [findingEvidence.body.id] } },
          calls,
        )
      ).status,
    ).toBe(200);
    expect(
      (
        await send(
          p,
          'verification',
          'POST',
          `/api/tasks/${enc(findingItem)}/verification`,
          { as: 'approver', json: { verdict: 'accept' } },
          calls,
        )
      ).status,
    ).toBe(200);

    const driven: DrivenCase[] = [
      { process: 'approval-with-condition', caseId, tasks: [`${caseId}:approval`, item], calls },
      { process: 'approval-four-eyes', caseId: fourEyes.body.caseId, tasks: [fourEyesTask], calls: [] },
      { process: 'audit-finding', caseId: findingCase, tasks: [findingItem], calls: [] },
    ];
    await expectClosed(p, driven);
    await expectNothingDoubled(p, driven);
    await expectHistoriesOnce(p, driven);

    const verify = await p.api('GET', '/api/audit/verify', { as: 'auditor' });
    expect(verify.status).toBe(200);
    expect(verify.body.ok, JSON.stringify(verify.body)).toBe(true);

    const sizes = order
      .map((d) => `${d} ${(statSync(path.join(dumps, `${d}.dump`)).size / 1024).toFixed(0)} KiB`)
      .join(', ');
    console.log(
      `[production] backup ${dumpedMs} ms (${sizes}), restore ${restoredMs} ms, server+worker+API started on them in ${restartMs} ms; 3 open cases resumed and closed, chain verifies`,
    );
  });
});
