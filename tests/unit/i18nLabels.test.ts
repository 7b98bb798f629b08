/**
 * The console's words for task statuses and audit actions (web/src/labels.ts):
 * every action the code writes and every status a task takes has them in
 * English and in Chinese, and a key without words shows as itself.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SUPPLIER_STATUSES } from '../../domain/supplierReview';
import { AUDIT_ACTION_LABELS, labelOf, TASK_STATUS_LABELS, type Label } from '../../web/src/labels';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SOURCE_DIRS = ['workflows', 'activities', 'platform', 'api', 'db', 'contracts'];

/** The subjects audit actions are named after: `<subject>.<what happened>`. */
const ACTION_SUBJECTS = [
  'case',
  'approval',
  'task',
  'step',
  'rectification',
  'evidence',
  'notification',
  'complaint',
  'incident',
  'supplier',
  'supplier_review',
  'pdca',
  'plan',
  'drill',
  'audit',
  'audit_plan',
  'risk',
  'kri',
  'warning',
  'risk_assessment',
  'risk_report',
  'policy',
  'user',
  'token',
];

/** Actions built from a template, and what each template makes (its kinds and statuses, read from the code). */
const TEMPLATES: Record<string, string[]> = {
  '${ladder.kind}.reminded': ['approval.reminded', 'task.reminded'],
  '${ladder.kind}.escalated': ['approval.escalated', 'task.escalated'],
  '${input.kind}.opened': ['approval.opened', 'rectification.opened', 'step.opened'],
  'notification.${input.kind}': [
    'notification.reminder',
    'notification.escalation',
    'notification.expiry',
    'notification.overdue',
  ],
  'risk.acceptance_${input.status}': ['risk.acceptance_rejected', 'risk.acceptance_lapsed'],
  'risk_report.${input.status}': ['risk_report.rejected', 'risk_report.lapsed'],
  'supplier.${next.status}': SUPPLIER_STATUSES.map((s) => `supplier.${s}`),
  "audit.finding_${response === 'accept' ? 'accepted' : 'disputed'}": [
    'audit.finding_accepted',
    'audit.finding_disputed',
  ],
  'pdca.awaiting_${kind}': ['pdca.awaiting_actuals', 'pdca.awaiting_recheck'],
};

function sourceFiles(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => path.join(e.parentPath, e.name));
}

const sources = SOURCE_DIRS.flatMap(sourceFiles).map((file) => readFileSync(file, 'utf8'));

/** Quoted `subject.event` literals in the code: the actions it writes (and nothing of those subjects is anything else). */
const literalActions = new Set(
  sources.flatMap((text) =>
    [...text.matchAll(/'([a-z_]+)\.([a-z_]+)'/g)]
      .filter((m) => ACTION_SUBJECTS.includes(m[1]!))
      .map((m) => m[0].slice(1, -1)),
  ),
);

/** Template literals given as an action (`action: \`…\``, recordData(`…`)). */
const templateActions = new Set(
  sources.flatMap((text) => [...text.matchAll(/(?:action: |recordData\()`([^`]*\$\{[^`]*)`/g)].map((m) => m[1]!)),
);

const hasWords = (label: Label | undefined) =>
  !!label && label.en.trim().length > 0 && /[\u4e00-\u9fff]/.test(label.zh) && label.en !== label.zh;

describe('the console’s words for keys', () => {
  it('finds the actions the code writes', () => {
    // The scan works: well-known actions of several forms are among them.
    for (const action of ['case.opened', 'approval.decided', 'incident.escalated', 'kri.observed', 'audit.checkpoint'])
      expect(literalActions, action).toContain(action);
    expect(literalActions.size).toBeGreaterThan(100);
  });

  it('has words for every action the code writes, in both languages', () => {
    const missing = [...literalActions].filter((a) => !hasWords(AUDIT_ACTION_LABELS[a]));
    expect(missing, 'add them to AUDIT_ACTION_LABELS in web/src/labels.ts').toEqual([]);
  });

  it('knows what every action template makes, and has words for each', () => {
    expect(
      [...templateActions].filter((t) => !(t in TEMPLATES)),
      'a new action template: add it here',
    ).toEqual([]);
    for (const made of Object.values(TEMPLATES))
      for (const action of made) expect(hasWords(AUDIT_ACTION_LABELS[action]), action).toBe(true);
  });

  it('has words for every status a task takes', () => {
    // The TaskStatus union (domain/cases.ts), and what the task engine sets besides: overdue, cancelled.
    const union = /export type TaskStatus = ([^;]+);/.exec(readFileSync(path.join(ROOT, 'domain/cases.ts'), 'utf8'));
    expect(union).not.toBeNull();
    const statuses = [...union![1]!.matchAll(/'([a-z_]+)'/g)].map((m) => m[1]!);
    expect(statuses).toContain('returned');
    for (const s of [...statuses, 'overdue', 'cancelled']) expect(hasWords(TASK_STATUS_LABELS[s]), s).toBe(true);
  });

  it('shows a key without words as the key itself, whatever the key', () => {
    expect(labelOf(TASK_STATUS_LABELS, 'returned', 'en')).toBe('Returned');
    expect(labelOf(TASK_STATUS_LABELS, 'returned', 'zh')).toBe('已退回');
    expect(labelOf(AUDIT_ACTION_LABELS, 'approval.decided', 'zh')).toBe('审批已决定');
    expect(labelOf(AUDIT_ACTION_LABELS, 'brand_new.thing_happened', 'en')).toBe('brand_new.thing_happened');
    expect(labelOf(TASK_STATUS_LABELS, 'on_hold', 'zh')).toBe('on_hold');
    // Not the object's own prototype either.
    for (const key of ['constructor', 'toString', '__proto__', 'hasOwnProperty'])
      expect(labelOf(AUDIT_ACTION_LABELS, key, 'en')).toBe(key);
  });
});
