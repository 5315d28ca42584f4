/**
 * The names of the protocols the engine knows: the public contract of `protocol=` in
 * `TIMEOUTSOCKET_RULES` and of `setSocketTimeoutRules()`.
 */

/** Every value `protocol=` accepts, `auto` (let the engine choose) included. */
export const PROTOCOL_SETTINGS = ['auto', 'request-reply', 'server-first', 'stream', 'redis', 'http'] as const;

/** A value of `protocol=`: a protocol, or `auto` to let the engine choose one per connection. */
export type ProtocolSetting = (typeof PROTOCOL_SETTINGS)[number];

/** A protocol a connection runs under once chosen (never `auto`). */
export type ProtocolName = Exclude<ProtocolSetting, 'auto'>;
