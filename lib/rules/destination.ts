/**
 * The destination of a rule: how it is written, and whether a connection matches it.
 *
 * - Names match the host given to `connect()`, case-insensitively, with one trailing dot
 *   ignored on either side (`db.internal.` is `db.internal`: the same name, fully qualified).
 * - `*.example.com` matches any name that ends in `.example.com` (one label or more before
 *   it), not `example.com` itself.
 * - IP literals and CIDR blocks match the host given to `connect()` when it is an address,
 *   and also the address actually connected to (`remoteAddress`). An IPv4-mapped IPv6 address
 *   (`::ffff:10.1.2.3`, what a dual-stack socket reports) matches IPv4 rules as its IPv4 address.
 */
import { quote } from '../quote';
import { BlockSyntaxError, blockContains, parseAddress, parseBlock, type IpBlock, type ParsedAddress } from './address';

/** What a rule's host part is. */
export type HostPattern =
  | { readonly kind: 'any' }
  | { readonly kind: 'name'; readonly name: string }
  | { readonly kind: 'suffix'; readonly suffix: string }
  | { readonly kind: 'ip'; readonly block: IpBlock };

/** A parsed destination: a host pattern and a port (`undefined` = any port). */
export interface Destination {
  readonly host: HostPattern;
  readonly port: number | undefined;
}

/** A connection as the matcher sees it, normalized once per connect. */
export interface Target {
  /** The host given to `connect()`, lower-cased, without a trailing dot. */
  readonly name: string;
  /** That host as an address, when it is an IP literal. */
  readonly hostAddress: ParsedAddress | undefined;
  readonly port: number | undefined;
  /** The address connected to, once known. */
  readonly address: ParsedAddress | undefined;
}

/** A destination that cannot be read: the message says what is wrong, `kind` which error class. */
export class DestinationError extends Error {
  constructor(
    message: string,
    readonly kind: 'type' | 'range',
  ) {
    super(message);
  }
}

/** A DNS label: letters, digits, `-` and `_` (SRV-style names), at most 63 characters (RFC 1035). */
const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;

/** Reads a destination as a rule writes it. Throws a {@link DestinationError}. */
export function parseDestination(text: string): Destination {
  if (text === '*') return { host: { kind: 'any' }, port: undefined };
  if (text.startsWith('[')) return parseBracketed(text);
  const colons = text.split(':').length - 1;
  // Two colons or more and no brackets: an IPv6 address or block with no port (`fd00::/8`).
  if (colons >= 2) return { host: parseHost(text), port: undefined };
  if (colons === 0) return { host: parseHost(text), port: undefined };
  const colon = text.lastIndexOf(':');
  const hostText = text.slice(0, colon);
  return { host: hostText === '*' ? { kind: 'any' } : parseHost(hostText), port: parsePort(text.slice(colon + 1)) };
}

function parseBracketed(text: string): Destination {
  const close = text.indexOf(']');
  if (close === -1) throw new DestinationError(`${quote(text)} has no closing ]`, 'type');
  const inside = text.slice(1, close);
  const after = text.slice(close + 1);
  if (after !== '' && !after.startsWith(':')) {
    throw new DestinationError(`${quote(text)}: after ] comes :port or nothing, got ${quote(after)}`, 'type');
  }
  const host = parseHost(inside);
  if (host.kind !== 'ip' || host.block.family !== 6) {
    throw new DestinationError(`${quote(inside)} in brackets is not an IPv6 address or block`, 'type');
  }
  return { host, port: after === '' ? undefined : parsePort(after.slice(1)) };
}

function parsePort(text: string): number {
  if (!/^\d+$/.test(text)) throw new DestinationError(`the port must be a number, got ${quote(text)}`, 'type');
  const port = Number(text);
  if (port < 1 || port > 65535) throw new DestinationError(`the port must be 1 to 65535, got ${quote(text)}`, 'range');
  return port;
}

function parseHost(text: string): HostPattern {
  if (text === '') throw new DestinationError('the host is empty', 'type');
  let block: IpBlock | undefined;
  try {
    block = parseBlock(text);
  } catch (error) {
    if (error instanceof BlockSyntaxError) throw new DestinationError(error.message, error.kind);
    throw error;
  }
  if (block !== undefined) return { kind: 'ip', block };
  const lower = text.toLowerCase();
  if (lower.startsWith('*.')) {
    const suffix = checkName(lower.slice(2), text);
    return { kind: 'suffix', suffix: `.${suffix}` };
  }
  if (lower.includes('*')) throw new DestinationError(`${quote(text)}: a wildcard is written *.suffix (or * alone)`, 'type');
  return { kind: 'name', name: checkName(lower, text) };
}

/** A host name, lower-cased, without its trailing dot; throws unless every label is a DNS label. */
function checkName(name: string, original: string): string {
  const bare = name.endsWith('.') ? name.slice(0, -1) : name;
  const labels = bare.split('.');
  // An all-numeric last label is not a name (RFC 3696 §2): `300.1.1.1` is a mistyped address.
  if (bare.length > 253 || !labels.every((label) => LABEL.test(label)) || /^\d+$/.test(labels[labels.length - 1])) {
    throw new DestinationError(`${quote(original)} is not a host name, an IP address or a CIDR block`, 'type');
  }
  return bare;
}

/** Normalizes the host given to `connect()` for matching; `port` and `address` as known. */
export function targetOf(host: string, port: number | undefined, address: string | undefined): Target {
  let name = host.toLowerCase();
  if (name.endsWith('.')) name = name.slice(0, -1);
  return { name, hostAddress: parseAddress(host), port, address: address === undefined || address === host ? undefined : parseAddress(address) };
}

/**
 * How a destination relates to a target: it matches, it does not, or it cannot tell until the
 * address is known (an IP or CIDR rule, a connection to a name, not connected yet).
 */
export type Match = 'yes' | 'no' | 'needs-address';

/** Does `destination` match `target`? */
export function matchDestination(destination: Destination, target: Target): Match {
  if (destination.port !== undefined && destination.port !== target.port) return 'no';
  const host = destination.host;
  switch (host.kind) {
    case 'any':
      return 'yes';
    case 'name':
      return target.hostAddress === undefined && target.name === host.name ? 'yes' : 'no';
    case 'suffix':
      return target.hostAddress === undefined && target.name.length > host.suffix.length && target.name.endsWith(host.suffix) ? 'yes' : 'no';
    case 'ip':
      if (target.hostAddress !== undefined && blockContains(host.block, target.hostAddress)) return 'yes';
      if (target.address !== undefined) return blockContains(host.block, target.address) ? 'yes' : 'no';
      // A name: the address it resolves to decides. A literal host is the address connected to.
      return target.hostAddress === undefined ? 'needs-address' : 'no';
  }
}
