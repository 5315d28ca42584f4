/**
 * `stream`: a connection whose writes do not ask for an answer (WebSockets after the upgrade,
 * MQTT, log shippers, push feeds, HTTP/2 with its own PING). No reply deadline at all; the
 * connect and write-stall deadlines and keep-alive still apply, so a peer that stops reading
 * or vanishes is still found.
 */
import type { Protocol } from './index';

/** The `stream` protocol. */
export const STREAM: Protocol = Object.freeze({ name: 'stream', id: 1, repliesToWrites: false, greetsFirst: false });
