/**
 * After the driver suite: print the table of every row, kill anything a crashed worker left
 * behind (by recorded PID), remove the run directory, and stop the watchdog.
 */
import { rmSync } from 'node:fs';
import { cleanUpRecorded } from './procs';
import { formatTable, loadRows, runDir } from './report';
import { T } from './matrix';

export default function globalTeardown(): void {
  clearTimeout(globalThis.driverSuiteWatchdog);
  const dir = runDir();
  if (!dir) return;
  const rows = loadRows(dir);
  const leftovers = cleanUpRecorded(dir);
  rmSync(dir, { recursive: true, force: true });
  process.stdout.write(
    `\nDriver suite, T = ${T} ms. A fault or hang row passes when the shim ends it with ETIMEDOUT in the right phase within T ± 20% ` +
      `of when its deadline was due and it still hangs without the shim at the cap; a healthy row when both runs succeed with no ` +
      `error, close or reconnect, the other end got everything, and (report mode) the shim reported nothing:\n\n`,
  );
  process.stdout.write(`${formatTable(rows)}\n\n`);
  if (process.env.DRIVER_SUITE_VERBOSE) {
    // What each client actually received with the shim, and where: message, error name, source.
    for (const r of rows) {
      const o = r.withShim;
      if (o.status === 'error') process.stdout.write(`${r.driver} / ${r.row}: ${o.name} via ${o.source}: ${o.message}\n`);
    }
    process.stdout.write('\n');
  }
  if (leftovers > 0) process.stdout.write(`driver suite: killed ${leftovers} leftover process tree(s)\n`);
}
