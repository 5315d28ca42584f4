/**
 * The whole `TIMEOUTSOCKET_*` environment, as the register preload applies it when any of its
 * variables is set (lib/preload-env.ts): the process default and keep-alive, the rules and the
 * mode before the install, the report collector after it. Loaded only then (under the
 * register bundle, as one file of its own: scripts/bundle-register.js).
 */
import { applyModeEnvironment } from './mode';
import { applyReportEnvironment } from './report/environment';
import { applyRulesEnvironment } from './rules/index';
import { applyEnvironment } from './runtime';

/**
 * What must be in force before the install: the process default (whether the per-write
 * wrappers go on at install follows from it), the rules and the mode. Throws a `RangeError`
 * (or a `TypeError` for a malformed rule) naming the variable.
 */
export function applyBeforeInstall(): void {
  applyEnvironment();
  applyRulesEnvironment();
  applyModeEnvironment();
}

/** What starts once installed: the report collector, when `TIMEOUTSOCKET_REPORT_FILE` names a file. */
export function applyAfterInstall(): void {
  applyReportEnvironment();
}
