/**
 * Prints one plain closing line, "N passed, N failed, N skipped", that any CI
 * can read, after vitest's own summary, and under it one "FAILED" line per
 * failed test with the first line of its error: a CI log that keeps only its
 * tail still says what broke.
 */
import type { Reporter, TestModule } from 'vitest/node';

const firstLine = (text: string | undefined) => (text ?? '').split('\n')[0]!.slice(0, 300);

export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    const failures: string[] = [];
    for (const module of testModules) {
      const tests = [...module.children.allTests()];
      for (const test of tests) {
        const result = test.result();
        if (result.state === 'passed') passed += 1;
        else if (result.state === 'failed') {
          failed += 1;
          failures.push(`${module.moduleId} > ${test.fullName}: ${firstLine(result.errors?.[0]?.message)}`);
        } else skipped += 1;
      }
      if (module.state() === 'failed' && !tests.length) {
        failed += 1;
        failures.push(`${module.moduleId}: ${firstLine(module.errors()[0]?.message)}`);
      }
    }
    process.stdout.write(`\nvitest: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
    for (const failure of failures) process.stdout.write(`FAILED ${failure.replace(`${process.cwd()}/`, '')}\n`);
  }
}
