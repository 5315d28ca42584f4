/**
 * `server-first`: the server greets before the client says anything (SMTP, POP3, IMAP, FTP,
 * MySQL, SSH). The reply deadline is armed when the connection is up (after the TLS handshake
 * for TLS clients): the greeting must start within `read`. After its first byte the connection
 * follows `request-reply`.
 */
import type { Protocol } from './index';

/** The `server-first` protocol. */
export const SERVER_FIRST: Protocol = Object.freeze({ name: 'server-first', id: 2, repliesToWrites: true, greetsFirst: true });
