/**
 * The protocols the engine knows, as data: an id per protocol (what a socket's state keeps, a
 * few bits of its flag field) and what each protocol says about the reply deadline.
 *
 * The engine asks two questions of a connection's protocol, both answered here once per
 * connection or per reply window, never per chunk:
 * - does a write by the client open a reply window ({@link Protocol.repliesToWrites})?
 * - must the reply deadline be armed as soon as the connection is up, before any write
 *   ({@link Protocol.greetsFirst})?
 * Protocols with more to say (redis: the window of a blocking command; http: the request and
 * response lifecycle) have their own module next to this one.
 */
import { HTTP } from './http-spec';
import type { ProtocolName } from './names';
import { REDIS } from './redis';
import { REQUEST_REPLY } from './request-reply';
import { SERVER_FIRST } from './server-first';
import { STREAM } from './stream';

export type { ProtocolName, ProtocolSetting } from './names';

/** What the engine needs to know of a protocol. */
export interface Protocol {
  /** The public name (`protocol=` in rules, debug lines, `getStats().protocols`). */
  readonly name: ProtocolName;
  /** The small integer a socket's state keeps; the index in {@link PROTOCOLS}. */
  readonly id: number;
  /** A client write opens a reply window (when none is pending). */
  readonly repliesToWrites: boolean;
  /** The server speaks first: the reply deadline is armed once the connection is up. */
  readonly greetsFirst: boolean;
}

/** Every protocol, indexed by its id. */
export const PROTOCOLS: readonly Protocol[] = Object.freeze([REQUEST_REPLY, STREAM, SERVER_FIRST, REDIS, HTTP]);

/** Ids by name. */
export const PROTOCOL_IDS: Readonly<Record<ProtocolName, number>> = Object.freeze(
  Object.fromEntries(PROTOCOLS.map((protocol) => [protocol.name, protocol.id])) as Record<ProtocolName, number>,
);

/** The protocol of a connection nothing else decided: today's rule. */
export const DEFAULT_PROTOCOL = REQUEST_REPLY.id;

/**
 * Where a socket's state keeps its protocol id: bits PROTOCOL_SHIFT.. of its flag field, at most
 * PROTOCOL_FIELD (so every protocol fits in three bits).
 */
export const PROTOCOL_SHIFT = 5;
/** The mask of a protocol id once shifted down. */
export const PROTOCOL_FIELD = 7;

/** The name of a protocol id. */
export function protocolName(id: number): ProtocolName {
  return (PROTOCOLS[id] ?? REQUEST_REPLY).name;
}
