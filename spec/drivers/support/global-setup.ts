/**
 * Before the driver suite: check the servers are installed, make the run directory the test
 * files share, and start the whole-run watchdog, which kills every process the suite started
 * (by recorded PID) and exits if the run outlives DRIVER_SUITE_DEADLINE_MS.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REGISTER } from './client';
import { cleanUpRecorded, killOwnDescendants } from './procs';
import { postgresBinDir } from './servers';

declare global {
  // Shared with global-teardown.ts: both run in Jest's parent process.
  var driverSuiteWatchdog: NodeJS.Timeout | undefined;
}

function need(bin: string): void {
  try {
    execFileSync('sh', ['-c', `command -v "${bin}"`], { stdio: 'ignore' });
  } catch {
    throw new Error(`${bin} is not installed: run scripts/setup-servers.sh`);
  }
}

export default function globalSetup(): void {
  need(process.env.DRIVER_SUITE_REDIS_SERVER ?? 'redis-server');
  need(process.env.DRIVER_SUITE_MEMCACHED ?? 'memcached');
  // Debian puts these two in /usr/sbin, which a non-root PATH may lack (servers.ts looks there too).
  for (const [bin, override] of [['mosquitto', process.env.DRIVER_SUITE_MOSQUITTO], ['mariadbd', process.env.DRIVER_SUITE_MARIADBD]] as const) {
    if (override || !existsSync(join('/usr/sbin', bin))) need(override ?? bin);
  }
  need(process.env.DRIVER_SUITE_MARIADB_INSTALL_DB ?? 'mariadb-install-db');
  postgresBinDir();
  if (!existsSync(REGISTER)) throw new Error(`${REGISTER} is missing: run \`npm run build\` first`);

  const dir = mkdtempSync(join(tmpdir(), 'timeoutsocket-drivers-'));
  // Workers are spawned after this hook, so they inherit it.
  process.env.DRIVER_SUITE_RUN_DIR = dir;

  const deadlineMs = Number(process.env.DRIVER_SUITE_DEADLINE_MS ?? 170000);
  globalThis.driverSuiteWatchdog = setTimeout(() => {
    const killed = killOwnDescendants();
    const orphans = cleanUpRecorded(dir);
    rmSync(dir, { recursive: true, force: true });
    process.stderr.write(
      `\ndriver suite: watchdog fired after ${deadlineMs} ms: killed ${killed} process(es) of this run and swept ${orphans} recorded tree(s)\n`,
    );
    process.exit(1);
  }, deadlineMs);
  globalThis.driverSuiteWatchdog.unref();
}
