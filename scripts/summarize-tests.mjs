#!/usr/bin/env node
// Usage: summarize-tests.mjs REPORT [EXIT_CODE]. Prints the plain closing line CI reads, "N passed, N failed[, N skipped]", from vitest's JSON report. A missing
// or unreadable report (the run stopped before vitest, at lint or build) counts as one failure.
import { readFileSync } from 'node:fs';

const file = process.argv[2] ?? 'test-results.json';
// The test command's exit code: non-zero with no failed test (unhandled errors, lint) still counts as a failure.
const exitCode = Number(process.argv[3] ?? 0);
let report;
try {
  report = JSON.parse(readFileSync(file, 'utf8'));
} catch {
  console.log('0 passed, 1 failed');
  process.exit(0);
}
const passed = report.numPassedTests ?? 0;
// A file that failed to load or crashed has no failed test of its own; count it as one failure.
const crashedFiles = (report.testResults ?? []).filter(
  (file) => file.status === 'failed' && !(file.assertionResults ?? []).some((a) => a.status === 'failed'),
).length;
const failed = (report.numFailedTests ?? 0) + crashedFiles;
const counted = exitCode !== 0 && failed === 0 ? 1 : failed;
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
console.log(`${passed} passed, ${counted} failed${skipped ? `, ${skipped} skipped` : ''}`);
