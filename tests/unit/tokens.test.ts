/**
 * Token lifetimes and where demo users may exist: the settings and the pure
 * decisions that `npm start` and the API take before they start. The same
 * rules on a real database and a real start are in
 * tests/integration/tokens.test.ts and seed.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { tokenExpiry } from '../../api/auth';
import { DEFAULT_TOKEN_TTL_DAYS, loadSettings, MAX_TOKEN_TTL_DAYS } from '../../platform/config';
import { DEMO_USERS, demoSeedingFor, isLoopbackHost, StartRefused } from '../../platform/seed';

const DAY = 24 * 60 * 60 * 1000;

describe('TOKEN_TTL_DAYS', () => {
  it('is 90 days unless set, and may be set from 1 to 365', () => {
    expect(DEFAULT_TOKEN_TTL_DAYS).toBe(90);
    expect(MAX_TOKEN_TTL_DAYS).toBe(365);
    expect(loadSettings({}).tokenTtlDays).toBe(90);
    expect(loadSettings({ TOKEN_TTL_DAYS: '' }).tokenTtlDays).toBe(90);
    expect(loadSettings({ TOKEN_TTL_DAYS: '1' }).tokenTtlDays).toBe(1);
    expect(loadSettings({ TOKEN_TTL_DAYS: '30' }).tokenTtlDays).toBe(30);
    expect(loadSettings({ TOKEN_TTL_DAYS: '365' }).tokenTtlDays).toBe(365);
  });

  it('refuses a value that is not a whole number of days within the limits, naming the setting', () => {
    for (const bad of ['0', '-5', '366', '1.5', 'ninety', '90d']) {
      expect(() => loadSettings({ TOKEN_TTL_DAYS: bad }), bad).toThrow(
        new RegExp(`TOKEN_TTL_DAYS must be a positive integer no greater than 365, got "${bad}"`),
      );
    }
  });

  it('reads every integer setting from the environment it is given, not the process’s', () => {
    expect(loadSettings({ PORT: '4123' }).port).toBe(4123);
    expect(loadSettings({}).port).toBe(3000);
  });

  it('reads HOST and NODE_ENV', () => {
    expect(loadSettings({}).host).toBeUndefined();
    expect(loadSettings({ HOST: '0.0.0.0' }).host).toBe('0.0.0.0');
    expect(loadSettings({}).production).toBe(false);
    expect(loadSettings({ NODE_ENV: 'test' }).production).toBe(false);
    expect(loadSettings({ NODE_ENV: 'production' }).production).toBe(true);
  });
});

describe('tokenExpiry', () => {
  it('counts whole days from the moment of issue, within 1…365', () => {
    const from = new Date('2026-03-01T08:00:00Z');
    expect(tokenExpiry(90, from)).toEqual(new Date(from.getTime() + 90 * DAY));
    expect(tokenExpiry(1, from)).toEqual(new Date('2026-03-02T08:00:00Z'));
    expect(tokenExpiry(365, from)).toEqual(new Date('2027-03-01T08:00:00Z'));
    for (const bad of [0, -1, 366, 2.5, Number.NaN])
      expect(() => tokenExpiry(bad, from), String(bad)).toThrow(/1 to 365 days/);
  });
});

describe('loopback', () => {
  it('is 127.0.0.0/8, ::1 and localhost; anything else is beyond', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', 'LOCALHOST', '::1', '[::1]', '::ffff:127.0.0.1']) {
      expect(isLoopbackHost(host), host).toBe(true);
    }
    for (const host of [
      '0.0.0.0',
      '::',
      '',
      '192.168.1.20',
      '10.0.0.1',
      'example.com',
      '128.0.0.1',
      '127.0.0.1.nip.io',
    ]) {
      expect(isLoopbackHost(host), host).toBe(false);
    }
  });
});

describe('demo users', () => {
  it('are one of each function, the manager leading the action owner', () => {
    expect(DEMO_USERS.map((u) => [u.id, u.roles])).toEqual([
      ['li.manager', ['manager', 'risk']],
      ['wang.approver', ['risk']],
      ['zhang.compliance', ['compliance']],
      ['sun.legal', ['legal']],
      ['qian.audit', ['internal_audit']],
      ['chen.owner', ['action_owner']],
      ['zhao.auditor', ['auditor']],
      ['admin', ['admin']],
    ]);
    expect(DEMO_USERS.find((u) => u.id === 'chen.owner')?.managerId).toBe('li.manager');
    expect(new Set(DEMO_USERS.map((u) => u.token)).size).toBe(DEMO_USERS.length);
  });
});

describe('demoSeedingFor: whether `npm start` seeds the demo users', () => {
  const embedded = { databaseUrl: undefined, host: '127.0.0.1', production: false };

  it('seeds the embedded database on loopback outside production', () => {
    expect(demoSeedingFor(embedded, {})).toEqual({ seed: true });
    expect(demoSeedingFor(embedded, { SEED_DEMO_USERS: 'true' })).toEqual({ seed: true });
    expect(demoSeedingFor({ ...embedded, host: 'localhost' }, {})).toEqual({ seed: true });
  });

  it('never seeds against a DATABASE_URL, and refuses SEED_DEMO_USERS=true there with a clear message', () => {
    const postgres = { ...embedded, databaseUrl: 'postgres://db.internal/governance' };
    expect(demoSeedingFor(postgres, {})).toEqual({ seed: false, why: 'no demo users with DATABASE_URL' });
    expect(demoSeedingFor(postgres, { SEED_DEMO_USERS: 'false' })).toMatchObject({ seed: false });
    const refusal = (() => {
      try {
        demoSeedingFor(postgres, { SEED_DEMO_USERS: 'true' });
      } catch (err) {
        return err;
      }
    })();
    expect(refusal).toBeInstanceOf(StartRefused);
    expect((refusal as Error).message).toMatch(/^SEED_DEMO_USERS=true is refused with DATABASE_URL/);
    expect((refusal as Error).message).toMatch(/only into the embedded database/);
  });

  it('seeds nothing in production, beyond loopback, or when told not to', () => {
    expect(demoSeedingFor({ ...embedded, production: true }, {})).toEqual({
      seed: false,
      why: 'no demo users with NODE_ENV=production',
    });
    expect(demoSeedingFor({ ...embedded, host: '0.0.0.0' }, {})).toEqual({
      seed: false,
      why: 'no demo users: HOST=0.0.0.0 listens beyond loopback',
    });
    expect(demoSeedingFor(embedded, { SEED_DEMO_USERS: 'false' })).toMatchObject({ seed: false });
  });

  it('refuses a SEED_DEMO_USERS that is neither true nor false', () => {
    expect(() => demoSeedingFor(embedded, { SEED_DEMO_USERS: 'yes' })).toThrow(StartRefused);
  });
});
