/**
 * Prints the README's policy table: every parameter of domain/policy.ts with
 * its default and its source. `npm run policy:table`, then paste it between
 * the README's policy-table markers (tests/unit/policy.test.ts checks it).
 */
import { DEFAULT_POLICY, policyLeaves, policySource } from '../domain/policy';

const rows = policyLeaves(DEFAULT_POLICY).map(
  ([path, value]) => `| \`${path}\` | \`${JSON.stringify(value)}\` | ${policySource(path)} |`,
);
console.log(
  [
    '<!-- policy-table -->',
    '',
    '| parameter | default | source |',
    '| --- | --- | --- |',
    ...rows,
    '',
    '<!-- /policy-table -->',
  ].join('\n'),
);
