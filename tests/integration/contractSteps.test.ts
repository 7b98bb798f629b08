/**
 * Who may take each step, derived from the contracts: for every step with a
 * route, every test user sends the step's example to a real case of its
 * process. Whoever holds none of the step's roles and is not the person the
 * case names is refused with 403 ROLE_NOT_PERMITTED and the contract's own
 * words, before history records anything; everyone else gets past the role
 * check (the stage or a domain rule may still refuse them). Add a step to a
 * contract and it is walked here with no new row.
 */
import { describe, expect, it } from 'vitest';
import { CONTRACTS } from '../../contracts';
import type { StepContract } from '../../contracts/core';
import { CONTRACT_ROUTES } from '../../api/routes/common';
import { openCaseOf, type OpenCase } from '../support/cases';
import { TEST_USERS, useHarness, type TestUser } from '../support/harness';
import { acceptedSteps } from '../support/histories';

const h = useHarness('contractsteps');
const USERS = Object.keys(TEST_USERS) as TestUser[];

const processes = CONTRACTS.filter((c) => Object.values(c.steps).some((s) => s.path));

it('every process with step routes can be opened here', () => {
  for (const contract of processes) expect(Object.keys(openCaseOf), contract.process).toContain(contract.process);
});

describe.each(processes.map((c) => [c.process, c] as const))('%s', (_, contract) => {
  let target: (OpenCase & { ownerId: string | null }) | undefined;
  const open = async () => {
    if (!target) {
      const opened = await openCaseOf[contract.process]!(h);
      const [row] = await h.sql('select owner_id from cases where id = $1', [opened.caseId]);
      target = { ...opened, ownerId: row?.owner_id ?? null };
    }
    return target;
  };
  const routeOf = (step: StepContract) => {
    const route = [...CONTRACT_ROUTES.entries()].find(([, r]) => r.step === step)?.[0];
    expect(route, `${contract.process}.${step.name} has a route`).toBeDefined();
    return route!.replace(/^POST /, '');
  };

  const steps = Object.entries(contract.steps).filter(([, s]) => s.path) as Array<[string, StepContract]>;
  it.each(steps)('%s: refused to everyone the contract does not name, with its words', async (_key, step) => {
    const { key, caseId, ownerId } = await open();
    const path = routeOf(step).replace(/\{[^}]+\}/, encodeURIComponent(key));
    for (const as of USERS) {
      const user = TEST_USERS[as];
      const may = user.roles.some((r) => step.roles.includes(r)) || (!!step.owner && user.id === ownerId);
      const before = (await acceptedSteps(h, caseId)).length;
      const res = await h.api('POST', path, { as, json: step.example });
      if (may) {
        expect(res.status, `${as}: ${JSON.stringify(res.body)}`).not.toBe(403);
        continue;
      }
      expect(res.status, `${as}: ${JSON.stringify(res.body)}`).toBe(403);
      if (user.roles.every((r) => r === 'auditor')) continue; // read-only: refused by the API before any step
      expect(res.body.error).toMatchObject({ reason: 'ROLE_NOT_PERMITTED', message: step.who });
      expect((await acceptedSteps(h, caseId)).length, `${as} left no step in history`).toBe(before);
    }
  });
});
