/**
 * `TIMEOUTSOCKET_REPORT_FILE` at start-up: the preload starts the report collector when the
 * variable is set, and only then loads it (lib/report/collect.ts and what it needs): a process
 * that does not collect pays nothing for it at start-up.
 */
import * as path from 'node:path';
import type { Collector } from './collect';

/** The environment variable naming the report file; set, it starts the collector at start-up. */
export const REPORT_FILE_ENV = 'TIMEOUTSOCKET_REPORT_FILE';

/**
 * Starts the collector when `TIMEOUTSOCKET_REPORT_FILE` names a file (relative to the working
 * directory at start-up); an empty or blank variable counts as unset.
 * @returns the collector, or `undefined` when the variable is unset or one already runs.
 */
export function applyReportEnvironment(env: NodeJS.ProcessEnv = process.env): Collector | undefined {
  const file = env[REPORT_FILE_ENV];
  if (file === undefined || file.trim() === '') return undefined;
  const { startCollecting } = require('./collect') as typeof import('./collect');
  return startCollecting(path.resolve(file));
}
