#!/usr/bin/env node
'use strict';
/**
 * `npm run test:matrix`: the unit suite on every supported Node line (20, 22, 24, 26), each on
 * its pinned official binary (scripts/node-lines.sh fetches and caches them).
 *
 * Builds once with the default `node` (the compiled dist/ is plain JavaScript every line runs),
 * then runs Jest under each binary, one line after the other, with that binary's folder first on
 * PATH: the specs' child processes start `process.execPath` (and `timeoutsocket run -- node`
 * starts `node` from PATH), so they run on the same line as the suite.
 *
 * Usage: node scripts/test-matrix.js [--no-build] [--report-dir DIR] [--lines 20,24] [-- jest args]
 *   --no-build     dist/ is already built (CI builds before).
 *   --report-dir   keep the Jest reports there, as unit-<line>.json, with lines.tsv (the rows of
 *                  scripts/node-lines.sh); default a temporary folder, removed at the end.
 *   --lines        only these lines.
 * Prints which lines ran (and which were skipped, and why), the counts per line, the failed
 * tests by name, and exits non-zero if anything failed or no line could run.
 */
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { printCounts } = require('./jest-counts');

const ROOT = path.resolve(__dirname, '..');
const JEST = path.join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js');

function parseArgs(argv) {
  const options = { build: true, reportDir: undefined, lines: [], jestArgs: [] };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === '--') {
      options.jestArgs = argv.slice(i + 1);
      break;
    } else if (arg === '--no-build') options.build = false;
    else if (arg === '--report-dir') options.reportDir = argv[++i];
    else if (arg === '--lines') options.lines = String(argv[++i]).split(',').filter(Boolean);
    else {
      console.error(`test:matrix: unknown argument ${JSON.stringify(arg)} (Jest's own go after --)`);
      process.exit(2);
    }
  }
  for (const line of options.lines) {
    if (!/^\d+$/.test(line)) {
      console.error(`test:matrix: --lines takes line numbers such as 20,24, got ${JSON.stringify(line)}`);
      process.exit(2);
    }
  }
  return options;
}

/** The rows of scripts/node-lines.sh: { line, version, bin (null when skipped), reason }. */
function nodeLines(lines) {
  const result = spawnSync('bash', [path.join(__dirname, 'node-lines.sh'), ...lines], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (result.status !== 0) {
    console.error('test:matrix: scripts/node-lines.sh failed');
    process.exit(1);
  }
  const text = result.stdout;
  const rows = text
    .split('\n')
    .filter(Boolean)
    .map((row) => {
      const [line, version, bin, reason] = row.split('\t');
      return { line, version, bin: bin === '-' ? null : bin, reason };
    });
  return { rows, text };
}

/** Runs the unit suite under one binary; Jest's own output goes to the terminal. */
function runLine(row, report, jestArgs) {
  const env = { ...process.env, PATH: `${path.dirname(row.bin)}${path.delimiter}${process.env.PATH ?? ''}` };
  console.log(`\n=== unit suite on node ${row.version} (${row.bin}) ===`);
  fs.rmSync(report, { force: true });
  spawnSync(row.bin, [JEST, '--json', `--outputFile=${report}`, ...jestArgs], { cwd: ROOT, env, stdio: 'inherit' });
}

function main() {
  const options = parseArgs(process.argv.slice(2));
  if (options.build) {
    const build = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
    if (build.status !== 0) {
      console.log('test:matrix: the build failed\n0 passed, 1 failed');
      process.exit(1);
    }
  }
  const keep = options.reportDir !== undefined;
  const dir = keep ? path.resolve(options.reportDir) : fs.mkdtempSync(path.join(os.tmpdir(), 'timeoutsocket-matrix-'));
  fs.mkdirSync(dir, { recursive: true });
  const { rows, text } = nodeLines(options.lines);
  fs.writeFileSync(path.join(dir, 'lines.tsv'), text);

  const ran = rows.filter((row) => row.bin !== null);
  for (const row of ran) runLine(row, path.join(dir, `unit-${row.line}.json`), options.jestArgs);

  console.log('\n=== test matrix ===');
  console.log(`lines run: ${ran.map((row) => `${row.line} (${row.version})`).join(', ') || 'none'}`);
  for (const row of rows.filter((r) => r.bin === null)) console.log(`line ${row.line} (${row.version}) skipped: ${row.reason}`);
  // A line whose binary could not be fetched (on a platform that has one) ran nothing: no report, one failure.
  const counted = rows.filter((row) => row.bin !== null || row.reason.startsWith('fetch failed'));
  const { passed, failed } = printCounts(counted.map((row) => [`unit, node ${row.version}`, path.join(dir, `unit-${row.line}.json`)]));
  console.log(`matrix: ${passed} passed, ${failed} failed`);
  if (!keep) fs.rmSync(dir, { recursive: true, force: true });
  process.exitCode = failed === 0 && ran.length > 0 ? 0 : 1;
}

main();
