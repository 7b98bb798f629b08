/** A bench stops what it started in reverse order, each step bounded, once (bench/support.ts benchTeardown). */
import { describe, expect, it, vi } from 'vitest';
import { benchTeardown } from '../../bench/support';

describe('benchTeardown', () => {
  it('stops in reverse order, goes on past a step that hangs or throws, and runs once', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const { cleanups, cleanup } = benchTeardown('test', 50);
      const order: string[] = [];
      cleanups.push({ what: 'database', run: async () => order.push('database') });
      cleanups.push({ what: 'server', run: () => new Promise(() => order.push('server (hangs)')) });
      cleanups.push({
        what: 'worker',
        run: async () => {
          order.push('worker');
          throw new Error('already gone');
        },
      });
      await Promise.all([cleanup(), cleanup()]);
      await cleanup();
      expect(order).toEqual(['worker', 'server (hangs)', 'database']);
      expect(errors.mock.calls.map((c) => c.join(' '))).toEqual([
        '[test] while stopping (worker): already gone',
        '[test] while stopping (server): took over 0.05 s',
      ]);
    } finally {
      errors.mockRestore();
    }
  });
});
