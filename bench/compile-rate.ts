/**
 * How many instructions this machine runs per millisecond of CPU on the kind of work the
 * register preload adds to start-up (V8 parsing and compiling module code): the factor
 * bench/README.md ("Start-up") converts the start-up instruction counts to milliseconds with.
 *
 * Compiles dist/lib/patch-bundle.js (132 KiB of the package's own modules, each in Node's
 * wrapper) N times in one process, each a different source (a counter in a trailing comment,
 * so V8's compilation cache never answers), and prints the CPU time (user + system) of one
 * compile: min, p10, p25 and median over the N. Noise only ever adds time, so the low
 * quantiles are the machine's own speed; on a shared machine the median is not.
 *
 * Usage: node dist/bench/compile-rate.js [N]      (N = 400 by default; env ICOUNT_N overrides)
 * The instructions of one compile: count the process under callgrind at two N and divide the
 * difference by the difference of N (start-up cancels), e.g. ICOUNT_N=20 and ICOUNT_N=60.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vm from 'node:vm';

const SOURCE = path.resolve(__dirname, '..', 'lib', 'patch-bundle.js');
const PARAMS = ['exports', 'require', 'module', '__filename', '__dirname'];

function main(): void {
  const n = Number(process.env.ICOUNT_N ?? process.argv[2] ?? 400);
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`compile-rate: N must be a positive integer, got ${JSON.stringify(process.env.ICOUNT_N ?? process.argv[2])}`);
  const text = fs.readFileSync(SOURCE, 'utf8');
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const before = process.cpuUsage();
    vm.compileFunction(`${text}\n// ${i}`, PARAMS, { filename: `${SOURCE}?${i}` });
    const spent = process.cpuUsage(before);
    times.push((spent.user + spent.system) / 1000);
  }
  if (process.env.ICOUNT_N !== undefined) return; // counted under callgrind: print nothing
  times.sort((a, b) => a - b);
  const at = (q: number): string => times[Math.round(q * (times.length - 1))].toFixed(3);
  process.stdout.write(`${n} compiles of ${path.basename(SOURCE)} (${Math.round(text.length / 1024)} KiB): CPU ms per compile min ${at(0)}, p10 ${at(0.1)}, p25 ${at(0.25)}, median ${at(0.5)}\n`);
}

main();
