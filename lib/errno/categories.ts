/**
 * The closed set of answers `classify` gives: what happened to a socket, in plain words.
 *
 * A category is a stable string: new categories may be added in a minor release, but an
 * existing one never changes its name or its meaning. The tables in this folder assign one
 * to every code they list; `classify.ts` refines a few by context (re-connect, connect vs recv).
 */

/** Every category, in a fixed order (roughly: connect progress, failures, local limits, the rest). */
export const CATEGORIES = [
  'connected',
  'in-progress',
  'already',
  'would-block',
  'refused',
  'reset',
  'aborted',
  'cancelled',
  'timeout',
  'unreachable',
  'network-down',
  'host-not-found',
  'not-connected',
  'closed',
  'address-in-use',
  'address-not-available',
  'access-denied',
  'too-many-files',
  'no-buffer-space',
  'interrupted',
  'invalid',
  'unsupported',
  'other',
  'unknown',
] as const;

/** One answer to "what happened to this socket?"; see {@link CATEGORY_MEANINGS}. */
export type Category = (typeof CATEGORIES)[number];

/** The same categories as a `Set`, for membership tests. */
export const CATEGORY_SET: ReadonlySet<string> = new Set<string>(CATEGORIES);

/** What each category means, one plain-language line each (used in `describe` messages). */
export const CATEGORY_MEANINGS: Readonly<Record<Category, string>> = {
  'connected': 'the socket is already connected; a connect has nothing left to do',
  'in-progress': 'the connection has started and has not finished yet; wait until the socket is writable',
  'already': 'an earlier connect on this socket is still in progress',
  'would-block': 'the operation cannot complete now without blocking; try again when the socket is ready',
  'refused': 'nothing accepted the connection at that address and port (the host answered with a reset)',
  'reset': 'the peer or the network reset the connection, or the peer had already closed it (broken pipe)',
  'aborted': 'the local network stack aborted the connection',
  'cancelled': 'the program cancelled the operation (an AbortSignal, or closing the socket under it)',
  'timeout': 'the operation ran out of time',
  'unreachable': 'no route to the host or network, or the host is down',
  'network-down': 'the local network (interface or subsystem) is down or unavailable',
  'host-not-found': 'the host name could not be resolved to an address (no such name, or the resolver failed)',
  'not-connected': 'the socket is not connected (and no destination was given)',
  'closed': 'the socket or its direction is closed: closed locally, shut down, or at end of stream',
  'address-in-use': 'the local address and port are already in use',
  'address-not-available': 'the address cannot be used from this machine (not local, or no free port)',
  'access-denied': 'the operating system denied permission',
  'too-many-files': 'the process or system has too many open files or sockets',
  'no-buffer-space': 'the system ran out of buffer space or memory',
  'interrupted': 'the call was interrupted before it finished (a signal; WSACancelBlockingCall on Windows); it can be retried',
  'invalid': 'an argument or the socket state was invalid for this operation',
  'unsupported': 'the operation, protocol or address family is not supported',
  'other': 'a known system error that is not about the connection itself (files, devices, processes)',
  'unknown': 'the code is in none of the tables',
};
