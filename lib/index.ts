/**
 * timeoutsocket: the public surface. Importing it installs the patch and applies the
 * `TIMEOUTSOCKET_*` environment (a bad value throws a RangeError naming it).
 */
import { applyEnvironment } from './config';
import { install } from './patch';

export {
  ENV,
  MAX_TIMEOUT_MS,
  PHASES,
  getDefaultSocketTimeout,
  parseDuration,
  setDefaultSocketTimeout,
  type Phase,
  type PhaseTimeouts,
  type TimeoutSetting,
} from './config';
export { SocketTimeoutError, Timeout, type SocketErrorDetails, type SocketTimeoutDetails } from './errors';
export { install, isInstalled, uninstall, type TimeoutSocketMethods } from './patch';

/** The package version. */
export const VERSION = '0.1.0';

applyEnvironment();
install();
