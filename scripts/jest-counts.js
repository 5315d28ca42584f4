#!/usr/bin/env node
'use strict';
/**
 * Counts Jest JSON reports (`jest --json --outputFile=…`) for the test matrix and CI.
 *
 * Usage: node scripts/jest-counts.js <label>=<report.json> …
 * Prints one line per report, then the failed tests by name, then the plain summed line
 * `N passed, N failed` last. A report that is missing or unreadable (the suite crashed or never
 * ran) counts as one failure; so does a test file that could not run (a runtime error).
 *
 * An honest count: the tests under spec/errno/ only check the shape of the errno tables' rows
 * (one test per row, some 470 of them), so each line reports them apart from the behaviour
 * tests; the summed line is the total of both.
 */
const fs = require('node:fs');
const path = require('node:path');

/** Tests in these folders check table rows, not behaviour. */
const TABLE_ROWS = `${path.sep}spec${path.sep}errno${path.sep}`;

/**
 * The counts of one report: behaviour and table-row tests apart, plus the failed tests' names.
 * @param {string} file
 */
function countReport(file) {
  const counts = { behaviour: { passed: 0, failed: 0 }, rows: { passed: 0, failed: 0 }, broken: 0, failures: [], missing: false };
  let report;
  try {
    report = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    counts.missing = true;
    counts.broken = 1;
    counts.failures.push('(no report: the suite did not run, or did not finish)');
    return counts;
  }
  for (const suite of report.testResults ?? []) {
    const bucket = suite.name.includes(TABLE_ROWS) ? counts.rows : counts.behaviour;
    const relative = path.relative(process.cwd(), suite.name);
    for (const test of suite.assertionResults ?? []) {
      if (test.status === 'passed') bucket.passed += 1;
      else if (test.status === 'failed') {
        bucket.failed += 1;
        counts.failures.push(`${relative}: ${test.fullName}`);
      }
    }
    // A file that failed to run at all reports no tests: count it once, by name.
    if (suite.status === 'failed' && (suite.assertionResults ?? []).length === 0) {
      counts.broken += 1;
      counts.failures.push(`${relative}: could not run (${String(suite.message).split('\n').find((l) => l.trim()) ?? 'no message'})`);
    }
  }
  return counts;
}

/** `N passed, N failed` of one report, behaviour and table rows together. */
function total(counts) {
  return {
    passed: counts.behaviour.passed + counts.rows.passed,
    failed: counts.behaviour.failed + counts.rows.failed + counts.broken,
  };
}

/** One line for one report. */
function describeCounts(label, counts) {
  if (counts.missing) return `${label}: no report (counted as 1 failed)`;
  const { passed, failed } = total(counts);
  const rows = counts.rows.passed + counts.rows.failed > 0 ? `; errno table rows: ${counts.rows.passed} passed, ${counts.rows.failed} failed` : '';
  const broken = counts.broken > 0 ? `; ${counts.broken} test file(s) could not run` : '';
  return `${label}: ${passed} passed, ${failed} failed (behaviour: ${counts.behaviour.passed} passed, ${counts.behaviour.failed} failed${rows}${broken})`;
}

/**
 * Prints each report's line, the failures, and returns the sum.
 * @param {Array<[string, string]>} labelled - [label, report file] pairs
 */
function printCounts(labelled) {
  let passed = 0;
  let failed = 0;
  const behaviour = { passed: 0, failed: 0 };
  const rows = { passed: 0, failed: 0 };
  const failures = [];
  for (const [label, file] of labelled) {
    const counts = countReport(file);
    console.log(describeCounts(label, counts));
    const sum = total(counts);
    passed += sum.passed;
    failed += sum.failed;
    behaviour.passed += counts.behaviour.passed;
    behaviour.failed += counts.behaviour.failed + counts.broken;
    rows.passed += counts.rows.passed;
    rows.failed += counts.rows.failed;
    for (const name of counts.failures) failures.push(`  ${label}: ${name}`);
  }
  if (failures.length > 0) console.log(`failed:\n${failures.join('\n')}`);
  if (labelled.length > 1) {
    console.log(
      `all runs: behaviour tests ${behaviour.passed} passed, ${behaviour.failed} failed; errno table rows ${rows.passed} passed, ${rows.failed} failed`,
    );
  }
  return { passed, failed };
}

module.exports = { countReport, describeCounts, printCounts, total };

if (require.main === module) {
  const labelled = process.argv.slice(2).map((arg) => {
    const at = arg.lastIndexOf('=');
    return at > 0 ? [arg.slice(0, at), arg.slice(at + 1)] : [arg, arg];
  });
  const { passed, failed } = printCounts(labelled);
  console.log(`${passed} passed, ${failed} failed`);
}
