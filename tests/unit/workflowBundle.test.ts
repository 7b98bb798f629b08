/**
 * The workflow bundle (worker.ts WORKFLOW_BUNDLE_OPTIONS, workflows/index.ts):
 * one script, every workflow in it, each loaded only when a workflow of its
 * type runs.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import * as index from '../../workflows/index';
import { WORKFLOW_BUNDLE_OPTIONS } from '../../worker';

const WORKFLOWS_DIR = fileURLToPath(new URL('../../workflows/', import.meta.url));

describe('the workflow bundle', () => {
  it('lists every workflow of workflows/, each a function that loads its module when called', async () => {
    const exported: string[] = [];
    for (const file of readdirSync(WORKFLOWS_DIR).filter((f) => f.endsWith('.ts') && f !== 'index.ts')) {
      const mod = (await import(path.join(WORKFLOWS_DIR, file))) as Record<string, unknown>;
      for (const [name, value] of Object.entries(mod))
        if (name.endsWith('Workflow') && typeof value === 'function') exported.push(name);
    }
    expect(exported.length).toBeGreaterThan(20);
    expect(Object.keys(index).sort()).toEqual(exported.sort());
    for (const fn of Object.values(index)) expect(fn.constructor.name).toBe('AsyncFunction');
  });

  it('is one chunk: the workflows’ import() calls are not split into files loaded on demand', async () => {
    const { code } = await bundleWorkflowCode({ ...WORKFLOW_BUNDLE_OPTIONS, logger: undefined });
    // Webpack's chunk loader (__webpack_require__.e) appears only when some import() became a chunk of its own.
    expect(code).not.toMatch(/__webpack_require__\.e\s*=/);
    expect(code).toContain('./workflows/approvalRequest.ts');
    expect(code).toContain('./workflows/supplierCampaign.ts');
    // Without the hook the same bundle has the loader: the check above can fail.
    const { code: split } = await bundleWorkflowCode({
      ...WORKFLOW_BUNDLE_OPTIONS,
      webpackConfigHook: (config) => config,
      logger: undefined,
    });
    expect(split).toMatch(/__webpack_require__\.e\s*=/);
  }, 120_000);
});
