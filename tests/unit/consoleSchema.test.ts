/**
 * The console's typed client (web/src/api/schema.d.ts) is generated from the
 * API's own OpenAPI document: a route changed without regenerating it fails
 * here. Fix: `npm run web:schema` (or UPDATE_CONSOLE_SCHEMA=1 on this test).
 */
import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { consoleProcessesText, consoleSchemaText, PROCESSES_FILE, SCHEMA_FILE } from '../../scripts/web-schema';

const require = createRequire(import.meta.url);

it('web/src/api/schema.d.ts is what the API documents now', async () => {
  const generated = await consoleSchemaText();
  if (process.env.UPDATE_CONSOLE_SCHEMA === '1') await writeFile(SCHEMA_FILE, generated);
  const committed = await readFile(SCHEMA_FILE, 'utf8').catch(() => '');
  expect(committed.length, 'web/src/api/schema.d.ts is missing: run npm run web:schema').toBeGreaterThan(0);
  // The paths the console calls are in it, typed.
  for (const path of [
    '/api/tasks/inbox',
    '/api/tasks/{taskId}/decision',
    '/api/cases',
    '/api/cases/{caseId}',
    '/api/me',
  ])
    expect(generated).toContain(`'${path}'`);
  expect(committed === generated, 'web/src/api/schema.d.ts has drifted from the API: run npm run web:schema').toBe(
    true,
  );
}, 60_000);

it('web/src/api/processes.ts lists the stages the contracts define now', async () => {
  const generated = await consoleProcessesText();
  if (process.env.UPDATE_CONSOLE_SCHEMA === '1') await writeFile(PROCESSES_FILE, generated);
  expect(generated).toMatch(/approval_request: \[\s*'awaiting_approval',\s*'rectification',\s*'closed',?\s*\]/);
  const committed = await readFile(PROCESSES_FILE, 'utf8').catch(() => '');
  expect(committed === generated, 'web/src/api/processes.ts has drifted: run npm run web:schema').toBe(true);
}, 60_000);

it('the console type-checks against the generated client (a changed response shape breaks it here)', () => {
  const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '--noEmit', '-p', 'web'], {
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    encoding: 'utf8',
  });
  expect(tsc.stdout + tsc.stderr).toBe('');
  expect(tsc.status).toBe(0);
}, 240_000);
