/**
 * `request-reply`: today's rule, for every connection no other protocol claims. A client write
 * with no reply pending opens a reply window; the first byte back settles it; a reply that does
 * not start within `read` after the request's last write is a timeout. Idle is never a timeout.
 */
import type { Protocol } from './index';

/** The `request-reply` protocol. */
export const REQUEST_REPLY: Protocol = Object.freeze({ name: 'request-reply', id: 0, repliesToWrites: true, greetsFirst: false });
