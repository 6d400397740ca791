// Prints `N passed, N failed[, N skipped]` as the last line of a run, over every project. CI reads
// this line; vitest's own summary counts files and tests differently per mode.
import type { Reporter, SerializedError, TestModule } from "vitest/node";

export default class CountReporter implements Reporter {
  onTestRunEnd(
    testModules: ReadonlyArray<TestModule>,
    unhandledErrors: ReadonlyArray<SerializedError>,
  ): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const testModule of testModules) {
      let failedHere = 0;
      for (const test of testModule.children.allTests()) {
        const { state } = test.result();
        if (state === "passed") passed += 1;
        else if (state === "failed") failedHere += 1;
        else if (state === "skipped") skipped += 1;
      }
      // A file that broke outside any test (import error, failing beforeAll) counts as one failure,
      // so a red run never prints "0 failed".
      failed += failedHere === 0 && !testModule.ok() ? 1 : failedHere;
    }
    failed += unhandledErrors.length;
    process.stdout.write(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}\n`);
  }
}
