/**
 * The production profile starts the app's processes with the commands
 * docker-compose.yml gives them, read from the file: the image and the tests
 * run the same compiled entries (scripts/node-build.ts).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { entryPath } from '../../scripts/node-build';
import { composeCommand, composeNodeFlags, composeRuntimeEnv } from '../../scripts/production/profile';
import { PROJECT_ROOT } from '../../platform/config';

const composeFile = (text: string) => {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'compose-')), 'docker-compose.yml');
  writeFileSync(file, text);
  return file;
};

describe('composeCommand', () => {
  it.each(['migrate', 'worker', 'api'] as const)('runs the %s service from its compiled entry', (service) => {
    const command = composeCommand(service);
    expect(command.slice(0, 2)).toEqual(['node', '--enable-source-maps']);
    expect(command.at(-1)).toBe(path.relative(PROJECT_ROOT, entryPath(service)));
  });

  it('caps the worker heap: with the sticky cache sized, its memory stops growing with open cases', () => {
    expect(composeCommand('worker')).toContain('--max-old-space-size=384');
  });

  it('reads the service under services:, not an anchor of the same name', () => {
    const file = composeFile(
      [
        'x-depends: &depends',
        '  worker:',
        '    condition: service_started',
        'services:',
        '  api:',
        "    command: ['node', 'a.mjs']",
        '',
        '  worker:',
        '    image: x',
        '    command: ["node", "--flag", "w.mjs"]',
        '',
      ].join('\n'),
    );
    expect(composeCommand('worker', file)).toEqual(['node', '--flag', 'w.mjs']);
    expect(composeCommand('api', file)).toEqual(['node', 'a.mjs']);
  });

  it('says which service has no command line', () => {
    const file = composeFile('services:\n  worker:\n    image: x\n');
    expect(() => composeCommand('worker', file)).toThrow(/no command: \[\.\.\.\] line for the worker service/);
    expect(() => composeCommand('migrate', file)).toThrow(/migrate service/);
  });
});

describe('composeNodeFlags and composeRuntimeEnv: the worker runs as the image would', () => {
  it("gives the node flags before the script and the worker's process tuning", () => {
    expect(composeNodeFlags('worker')).toEqual(['--enable-source-maps', '--max-old-space-size=384']);
    expect(composeRuntimeEnv('worker')).toEqual({ NODE_OPTIONS: '--max-semi-space-size=4', MALLOC_ARENA_MAX: '2' });
    expect(composeRuntimeEnv('api')).toEqual({});
  });

  it('keeps only process tuning, unquoted, and refuses a value compose would substitute', () => {
    const file = composeFile(
      [
        'services:',
        '  worker:',
        "    command: ['node', '--a', '--b=1', 'w.mjs', '--not-a-node-flag']",
        '    environment:',
        '      <<: *app-env',
        '      NODE_OPTIONS: "--max-semi-space-size=8"',
        "      MALLOC_ARENA_MAX: '4'",
        '      DATABASE_URL: postgres://x',
        '  api:',
        "    command: ['node', 'a.mjs']",
        '    environment:',
        '      NODE_OPTIONS: ${NODE_OPTIONS:-}',
        '',
      ].join('\n'),
    );
    expect(composeNodeFlags('worker', file)).toEqual(['--a', '--b=1']);
    expect(composeRuntimeEnv('worker', file)).toEqual({
      NODE_OPTIONS: '--max-semi-space-size=8',
      MALLOC_ARENA_MAX: '4',
    });
    expect(() => composeRuntimeEnv('api', file)).toThrow(/api\.environment\.NODE_OPTIONS must be literal/);
  });
});
