/**
 * timeoutsocket: the public surface. Importing it installs the patch and applies the
 * `TIMEOUTSOCKET_*` environment (a bad value throws a RangeError naming it).
 */
import { applyModeEnvironment } from './mode';
import { install } from './patch';
import { applyRulesEnvironment } from './rules/index';
import { applyEnvironment } from './runtime';

export {
  ENV,
  MAX_TIMEOUT_MS,
  PHASES,
  parseDuration,
  type Phase,
  type PhaseTimeouts,
  type TimeoutSetting,
} from './config';
export { getDefaultSocketTimeout, setDefaultSocketTimeout } from './runtime';
export {
  RULES_ENV,
  getSocketTimeoutRules,
  setSocketTimeoutRules,
  type RuleSettings,
  type SocketTimeoutRule,
  type SocketTimeoutRuleInput,
  type SocketTimeoutRules,
} from './rules/index';
export { DEADLINE_MODES, MODE_ENV, getDeadlineMode, setDeadlineMode, type DeadlineMode } from './mode';
export { PROTOCOL_SETTINGS, type ProtocolName, type ProtocolSetting } from './protocols/names';
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
  type DeadlineDestination,
  type InstallMessage,
  type LateMessage,
  type NeverMessage,
  type ProtocolSource,
  type ProtocolStats,
  type TimeoutMessage,
  type TimeoutSocketStats,
  type UninstallMessage,
} from './observe';
/** Everything of the side-effect-free `timeoutsocket/errno` entry: classify, describe, normalizeError, the tables. */
export * from './errno';

export { VERSION } from './version';

applyEnvironment();
applyRulesEnvironment();
applyModeEnvironment();
install();
