/**
 * The preload entry: `node -r timeoutsocket/register`, `node --import timeoutsocket/register`,
 * or either through `NODE_OPTIONS` (which child processes inherit).
 *
 * A bad `TIMEOUTSOCKET_*` value must stop the process before the application runs, with one
 * line naming the variable and the value, rather than leave it running without deadlines.
 */
import { install } from './patch';
import { applyEnvironment } from './runtime';

try {
  applyEnvironment();
  install();
} catch (error) {
  process.stderr.write(`timeoutsocket: ${(error as Error).message}\n`);
  process.exit(9);
}
