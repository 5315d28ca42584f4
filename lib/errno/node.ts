/**
 * Code strings that Node itself produces (not the operating system or libuv).
 *
 * Sources: Node v20 documentation, `doc/api/dns.md` ("Error codes": the c-ares codes
 * `dns.NOTFOUND` … `dns.CANCELLED`) and `doc/api/errors.md` (the `ERR_*` codes and
 * `ABORT_ERR`); `kind: 'name'` rows are DOMException names (`AbortSignal.abort()` and
 * `AbortSignal.timeout()` reasons), whose numeric legacy `code` says nothing useful.
 *
 * Decisions: every failed name lookup is 'host-not-found', including the temporary ones
 * (EAI_AGAIN in libuv.ts, ESERVFAIL here): the socket never got an address either way,
 * and the source's own words in `describe`'s message ("temporary failure") tell a retry apart. `'ENODATA'` as a string is Node's
 * `dns.NODATA`; as a number it is the errno (see linux.ts), which is 'other'.
 */
import type { NodeCodeRow } from './row';

/** Node-only code strings (and DOMException names), one row each. */
export const NODE_CODES: readonly NodeCodeRow[] = [
  // DNS (c-ares), doc/api/dns.md "Error codes". ECONNREFUSED, EOF and ENOMEM are left to libuv.ts.
  { code: 'ENOTFOUND', kind: 'code', category: 'host-not-found', message: 'Domain name not found (also what Node reports for getaddrinfo EAI_NONAME and EAI_NODATA)' },
  { code: 'ENODATA', kind: 'code', category: 'host-not-found', message: 'DNS server returned an answer with no data' },
  { code: 'ESERVFAIL', kind: 'code', category: 'host-not-found', message: 'DNS server returned general failure (often temporary)' },
  { code: 'EREFUSED', kind: 'code', category: 'host-not-found', message: 'DNS server refused query' },
  { code: 'EFORMERR', kind: 'code', category: 'host-not-found', message: 'DNS server claims query was misformatted' },
  { code: 'ENOTIMP', kind: 'code', category: 'host-not-found', message: 'DNS server does not implement the requested operation' },
  { code: 'EBADRESP', kind: 'code', category: 'host-not-found', message: 'Misformatted DNS reply' },
  { code: 'ETIMEOUT', kind: 'code', category: 'timeout', message: 'Timeout while contacting DNS servers' },
  { code: 'ECANCELLED', kind: 'code', category: 'cancelled', message: 'DNS query cancelled' },
  { code: 'EDESTRUCTION', kind: 'code', category: 'cancelled', message: 'Channel is being destroyed' },
  { code: 'EBADQUERY', kind: 'code', category: 'invalid', message: 'Misformatted DNS query' },
  { code: 'EBADNAME', kind: 'code', category: 'invalid', message: 'Misformatted host name' },
  { code: 'EBADSTR', kind: 'code', category: 'invalid', message: 'Misformatted string' },
  { code: 'EBADFLAGS', kind: 'code', category: 'invalid', message: 'Illegal flags specified' },
  { code: 'EBADHINTS', kind: 'code', category: 'invalid', message: 'Illegal hints flags specified' },
  { code: 'ENONAME', kind: 'code', category: 'invalid', message: 'Given host name is not numeric' },
  { code: 'ENOTINITIALIZED', kind: 'code', category: 'invalid', message: 'c-ares library initialization not yet performed' },
  { code: 'EBADFAMILY', kind: 'code', category: 'unsupported', message: 'Unsupported address family' },
  { code: 'EFILE', kind: 'code', category: 'other', message: 'Error reading file' },
  { code: 'ELOADIPHLPAPI', kind: 'code', category: 'other', message: 'Error loading iphlpapi.dll' },
  { code: 'EADDRGETNETWORKPARAMS', kind: 'code', category: 'other', message: 'Could not find GetNetworkParams function' },
  // Cancellation and timeouts, doc/api/errors.md.
  { code: 'ABORT_ERR', kind: 'code', category: 'cancelled', message: 'The operation was aborted (typically through an AbortController)' },
  { code: 'ERR_SOCKET_CONNECTION_TIMEOUT', kind: 'code', category: 'timeout', message: 'No address could be connected to within the allowed time (autoSelectFamily)' },
  { code: 'ERR_TLS_HANDSHAKE_TIMEOUT', kind: 'code', category: 'timeout', message: 'A TLS/SSL handshake timed out' },
  // Closed sockets and streams. ERR_SOCKET_CLOSED is our side; EPIPE (libuv.ts) is the peer's.
  { code: 'ERR_SOCKET_CLOSED', kind: 'code', category: 'closed', message: 'An attempt was made to operate on an already closed socket' },
  { code: 'ERR_SOCKET_CLOSED_BEFORE_CONNECTION', kind: 'code', category: 'closed', message: 'The socket was closed before the connection was established' },
  { code: 'ERR_SOCKET_DGRAM_NOT_RUNNING', kind: 'code', category: 'closed', message: 'A call was made and the UDP subsystem was not running' },
  { code: 'ERR_SERVER_NOT_RUNNING', kind: 'code', category: 'closed', message: 'The server was closed (or never listened)' },
  { code: 'ERR_STREAM_DESTROYED', kind: 'code', category: 'closed', message: 'A stream method was called after the stream was destroyed' },
  { code: 'ERR_STREAM_WRITE_AFTER_END', kind: 'code', category: 'closed', message: 'A write was attempted after end() was called' },
  { code: 'ERR_STREAM_PREMATURE_CLOSE', kind: 'code', category: 'closed', message: 'The stream closed before it finished' },
  // Connection state of datagram sockets.
  { code: 'ERR_SOCKET_DGRAM_IS_CONNECTED', kind: 'code', category: 'connected', message: 'The UDP socket is already connected' },
  { code: 'ERR_SOCKET_DGRAM_NOT_CONNECTED', kind: 'code', category: 'not-connected', message: 'The UDP socket is not connected' },
  // Programming errors.
  { code: 'ERR_SOCKET_BAD_PORT', kind: 'code', category: 'invalid', message: 'A port was not >= 0 and < 65536' },
  { code: 'ERR_SOCKET_BAD_TYPE', kind: 'code', category: 'invalid', message: 'A socket type was neither udp4 nor udp6' },
  { code: 'ERR_SOCKET_BAD_BUFFER_SIZE', kind: 'code', category: 'invalid', message: 'An invalid socket buffer size was given' },
  { code: 'ERR_SOCKET_ALREADY_BOUND', kind: 'code', category: 'invalid', message: 'The socket is already bound' },
  { code: 'ERR_SERVER_ALREADY_LISTEN', kind: 'code', category: 'invalid', message: 'The server is already listening' },
  { code: 'ERR_INVALID_ARG_TYPE', kind: 'code', category: 'invalid', message: 'An argument of the wrong type was passed' },
  { code: 'ERR_INVALID_ARG_VALUE', kind: 'code', category: 'invalid', message: 'An invalid or unsupported value was passed' },
  { code: 'ERR_OUT_OF_RANGE', kind: 'code', category: 'invalid', message: 'A value was out of range' },
  { code: 'ERR_MISSING_ARGS', kind: 'code', category: 'invalid', message: 'A required argument was not passed' },
  { code: 'ERR_INVALID_IP_ADDRESS', kind: 'code', category: 'invalid', message: 'An IP address is not valid' },
  { code: 'ERR_INVALID_ADDRESS_FAMILY', kind: 'code', category: 'invalid', message: 'The address family is not recognised' },
  { code: 'ERR_FEATURE_UNAVAILABLE_ON_PLATFORM', kind: 'code', category: 'unsupported', message: 'The feature is not available on this platform' },
  // DOMException names.
  { code: 'AbortError', kind: 'name', category: 'cancelled', message: 'The operation was aborted (AbortSignal.abort())' },
  { code: 'TimeoutError', kind: 'name', category: 'timeout', message: 'The operation timed out (AbortSignal.timeout())' },
];
