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
export {
  AbortError,
  BlockingIOError,
  SocketClosedError,
  SocketTimeoutError,
  Timeout,
  WouldBlockError,
  type SocketErrorDetails,
  type SocketTimeoutDetails,
} from './errors';
export {
  install,
  isInstalled,
  uninstall,
  type AwaitableSocketMethods,
  type TimeoutServerMethods,
  type TimeoutSocketMethods,
} from './patch';
export {
  ACCEPT_QUEUE_LIMIT,
  createConnection,
  type CallOptions,
  type ConnectExResult,
  type CreateConnectionOptions,
} from './awaitable';
export {
  CHANNELS,
  getStats,
  type InstallMessage,
  type ProtocolSource,
  type ProtocolStats,
  type TimeoutMessage,
  type TimeoutSocketStats,
  type UninstallMessage,
} from './observe';
export {
  CATEGORIES,
  CATEGORY_MEANINGS,
  OPERATIONS,
  classify,
  describe,
  type Category,
  type ClassifyContext,
  type Description,
  type ErrorCode,
  type ErrorLike,
  type Operation,
  type Platform,
  type Source,
} from './classify';
export { PROTOCOL_SETTINGS, type ProtocolName, type ProtocolSetting } from './protocols/names';
export { normalizeError, type NormalizeContext, type NormalizedError, type NormalizedFields } from './normalize';

/** The package version. */
export const VERSION = '0.1.0';

applyEnvironment();
install();
