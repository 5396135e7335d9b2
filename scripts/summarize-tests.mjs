#!/usr/bin/env node
// Usage: summarize-tests.mjs REPORT [EXIT_CODE [REPORT EXIT_CODE]...]. Prints the plain closing line CI reads,
// "N passed, N failed[, N skipped]", summed over vitest's JSON reports (the main suite, the sanitizer tier). A
// missing or unreadable report (the run stopped before vitest, at lint or build) counts as one failure.
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
if (args.length === 0) args.push('test-results.json');
let passed = 0;
let failed = 0;
let skipped = 0;
for (let i = 0; i < args.length; i += 2) {
  const [p, f, s] = count(args[i], Number(args[i + 1] ?? 0));
  passed += p;
  failed += f;
  skipped += s;
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);

/** [passed, failed, skipped] of one report; `exitCode`: its command's (non-zero with no failed test, as with
 * unhandled errors, lint or a sanitizer report, still counts as a failure). */
function count(file, exitCode) {
  let report;
  try {
    report = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return [0, 1, 0];
  }
  // A file that failed to load or crashed has no failed test of its own; count it as one failure.
  const crashedFiles = (report.testResults ?? []).filter(
    (result) => result.status === 'failed' && !(result.assertionResults ?? []).some((a) => a.status === 'failed'),
  ).length;
  const failures = (report.numFailedTests ?? 0) + crashedFiles;
  return [
    report.numPassedTests ?? 0,
    exitCode !== 0 && failures === 0 ? 1 : failures,
    (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0),
  ];
}
