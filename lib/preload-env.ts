/**
 * The register preload's first question: is any `TIMEOUTSOCKET_*` variable set at all? Mostly
 * none is (a process that only preloads, its deadlines set in code or not at all), and then
 * nothing needs reading, parsing or checking: the preload marks the environment read, exactly
 * as applying an empty one would, and loads none of the modules that read it (lib/runtime.ts
 * and lib/config.ts, lib/rules/index.ts, lib/mode.ts, lib/report/environment.ts; issue 16,
 * start-up: V8 compiles every line a start-up file holds). With any of them set, even empty,
 * lib/environment.ts applies the whole environment, as before.
 */
import { store } from './rules/store';
import { runtime } from './runtime-record';

/**
 * Every variable the register preload reads at start-up: lib/config.ts `ENV`, lib/rules/index.ts
 * `RULES_ENV`, lib/mode.ts `MODE_ENV` and lib/report/environment.ts `REPORT_FILE_ENV`
 * (spec/preload-env.spec.ts checks the list against them).
 */
export const PRELOAD_VARIABLES = [
  'TIMEOUTSOCKET_TIMEOUT',
  'TIMEOUTSOCKET_CONNECT_TIMEOUT',
  'TIMEOUTSOCKET_READ_TIMEOUT',
  'TIMEOUTSOCKET_WRITE_TIMEOUT',
  'TIMEOUTSOCKET_KEEPALIVE',
  'TIMEOUTSOCKET_RULES',
  'TIMEOUTSOCKET_MODE',
  'TIMEOUTSOCKET_REPORT_FILE',
] as const;

/** Whether `env` has any of {@link PRELOAD_VARIABLES}, empty or not (an empty one is read, and counts as unset, there). */
export function anyPreloadVariable(env: NodeJS.ProcessEnv = process.env): boolean {
  for (const name of PRELOAD_VARIABLES) if (env[name] !== undefined) return true;
  return false;
}

/**
 * What applying the environment does when none of {@link PRELOAD_VARIABLES} is set: each part
 * marks itself read, once per process, and changes nothing else (`applyEnvironment` in
 * lib/runtime.ts, `applyRulesEnvironment` in lib/rules/index.ts, `applyModeEnvironment` in
 * lib/mode.ts; the report file has no mark). So a copy of the package loaded later, with the
 * variables set by then, leaves them alone, as it would have.
 */
export function markEnvironmentRead(): void {
  const shared = runtime();
  if (!shared.envApplied) {
    shared.envApplied = true;
    shared.keepAliveProbes = null;
  }
  shared.modeEnvApplied = true;
  store().envApplied = true;
}
