/**
 * The preload entry: `node -r timeoutsocket/register`, `node --import timeoutsocket/register`,
 * or either through `NODE_OPTIONS` (which child processes inherit).
 *
 * A bad `TIMEOUTSOCKET_*` value (a bad rule in `TIMEOUTSOCKET_RULES`, a bad `TIMEOUTSOCKET_MODE` too) must stop the process
 * before the application runs, with one line naming the variable and the value (or quoting the
 * rule), rather than leave it running without deadlines.
 *
 * With none of those variables set, the preload reads nothing more and loads none of the
 * modules that read them (lib/preload-env.ts): start-up is what issue 16 bounds.
 */
import type * as Environment from './environment';
import { installLazily } from './lazy-install';
import { anyPreloadVariable, markEnvironmentRead } from './preload-env';

/**
 * The exit status for a bad `TIMEOUTSOCKET_*` value: 9, the status Node itself exits with for
 * an invalid argument (an unknown option, or one missing its value), which this is.
 */
const EXIT_INVALID_ARGUMENT = 9;

try {
  if (anyPreloadVariable()) {
    const environment = require('./environment') as typeof Environment;
    environment.applyBeforeInstall();
    installLazily(); // install()'s patch, its engine loaded on first use (lib/lazy-install.ts)
    environment.applyAfterInstall();
  } else {
    markEnvironmentRead();
    installLazily();
  }
} catch (error) {
  // A package file that will not load (a broken install) stops the process too: the deadlines
  // the variables ask for could not be put in place. Its message says which file.
  process.stderr.write(`timeoutsocket: ${(error as Error).message}\n`);
  process.exit(EXIT_INVALID_ARGUMENT);
}
