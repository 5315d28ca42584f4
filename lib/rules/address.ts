/**
 * IP addresses and CIDR blocks for rule matching: parsing a literal into a number, and testing
 * whether an address falls in a block.
 *
 * An address is compared as an unsigned integer (IPv4 as a `number`, IPv6 as a `bigint`), so a
 * block test is one mask and one comparison. This runs once per connection, never per chunk.
 */
import * as net from 'node:net';
import { quote } from '../quote';

/** One address or block: a family, the network bits, and the prefix length. */
export interface IpBlock {
  readonly family: 4 | 6;
  /** The address with the host bits cleared (a number for IPv4, a bigint for IPv6). */
  readonly network: number | bigint;
  /** Prefix length: 32 or 128 for a single address. */
  readonly prefix: number;
}

/** An address as the matcher sees it: its IPv4 value (also for IPv4-mapped IPv6) and its IPv6 value. */
export interface ParsedAddress {
  /** The IPv4 address, or the IPv4 inside an IPv4-mapped IPv6 address (`::ffff:10.0.0.1`). */
  readonly v4: number | undefined;
  /** The IPv6 address; undefined for a plain IPv4 address. */
  readonly v6: bigint | undefined;
}

const V4_MAPPED_PREFIX = 0xffffn << 32n;
const V4_MAPPED_MASK = ~0xffffffffn & ((1n << 128n) - 1n);

/** `a.b.c.d` as an unsigned 32-bit number; `undefined` unless `net.isIPv4` accepts it. */
export function ipv4ToNumber(text: string): number | undefined {
  if (!net.isIPv4(text)) return undefined;
  const parts = text.split('.');
  return ((Number(parts[0]) << 24) | (Number(parts[1]) << 16) | (Number(parts[2]) << 8) | Number(parts[3])) >>> 0;
}

/**
 * An IPv6 literal as a 128-bit bigint; `undefined` unless `net.isIPv6` accepts it. A zone
 * (`fe80::1%eth0`) is ignored: Node reports link-local peers with it, and the block a rule
 * names is the same on every interface.
 */
export function ipv6ToBigInt(text: string): bigint | undefined {
  const bare = text.includes('%') ? text.slice(0, text.indexOf('%')) : text;
  if (!net.isIPv6(bare)) return undefined;
  let groups = bare;
  // An embedded IPv4 tail (::ffff:1.2.3.4) stands for the last two groups.
  const lastColon = groups.lastIndexOf(':');
  const v4 = ipv4ToNumber(groups.slice(lastColon + 1));
  if (v4 !== undefined) groups = `${groups.slice(0, lastColon + 1)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  const [head, rest] = groups.includes('::') ? groups.split('::') : [groups, undefined];
  const left = head === '' ? [] : head.split(':').map((g) => parseInt(g, 16));
  const right = rest === undefined || rest === '' ? [] : rest.split(':').map((g) => parseInt(g, 16));
  const all = rest === undefined ? left : [...left, ...new Array<number>(Math.max(0, 8 - left.length - right.length)).fill(0), ...right];
  if (all.length !== 8) return undefined;
  return all.reduce((acc, group) => (acc << 16n) | BigInt(group), 0n);
}

/**
 * Parses an address for matching: plain IPv4, IPv6, and IPv4-mapped IPv6 (which also gets its
 * IPv4 value, so `10.0.0.0/8` matches a dual-stack socket's `::ffff:10.1.2.3`). `undefined` for
 * anything that is not an IP literal (a name).
 */
export function parseAddress(text: string | undefined): ParsedAddress | undefined {
  if (text === undefined || text === '') return undefined;
  const v4 = ipv4ToNumber(text);
  if (v4 !== undefined) return { v4, v6: undefined };
  const v6 = ipv6ToBigInt(text);
  if (v6 === undefined) return undefined;
  const mapped = (v6 & V4_MAPPED_MASK) === V4_MAPPED_PREFIX ? Number(v6 & 0xffffffffn) : undefined;
  return { v4: mapped, v6 };
}

/** Is `address` inside `block`? */
export function blockContains(block: IpBlock, address: ParsedAddress): boolean {
  if (block.family === 4) {
    if (address.v4 === undefined) return false;
    if (block.prefix === 0) return true;
    const mask = (~0 << (32 - block.prefix)) >>> 0;
    return ((address.v4 & mask) >>> 0) === block.network;
  }
  if (address.v6 === undefined) return false;
  const shift = BigInt(128 - block.prefix);
  return address.v6 >> shift === (block.network as bigint) >> shift;
}

/** What went wrong reading a block, for the rule parser's message. */
export class BlockSyntaxError extends Error {
  constructor(
    message: string,
    /** `TypeError` for text that is no address at all, `RangeError` for a bad prefix or host bits. */
    readonly kind: 'type' | 'range',
  ) {
    super(message);
  }
}

/**
 * Parses an address or CIDR block as a rule writes it (`10.0.0.0/8`, `fd00::/8`, `::1`).
 * A block with host bits set (`10.0.0.1/8`) is refused, as Python's `ip_network()` does by
 * default: it is almost always a typo for the network or for a single address.
 * Returns `undefined` when `text` is not an IP literal at all (so it is a name).
 */
export function parseBlock(text: string): IpBlock | undefined {
  const slash = text.indexOf('/');
  const addressText = slash === -1 ? text : text.slice(0, slash);
  const v4 = ipv4ToNumber(addressText);
  const v6 = v4 === undefined && !addressText.includes('%') ? ipv6ToBigInt(addressText) : undefined;
  if (v4 === undefined && v6 === undefined) {
    if (slash !== -1) throw new BlockSyntaxError(`${quote(addressText)} before the / is not an IPv4 or IPv6 address`, 'type');
    return undefined;
  }
  const bits = v4 !== undefined ? 32 : 128;
  const prefixText = slash === -1 ? String(bits) : text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > bits) {
    throw new BlockSyntaxError(`the prefix length in ${quote(text)} must be 0 to ${bits}, got ${quote(prefixText)}`, 'range');
  }
  const prefix = Number(prefixText);
  if (v4 !== undefined) {
    const mask = prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
    const network = (v4 & mask) >>> 0;
    if (network !== v4) throw new BlockSyntaxError(`${quote(text)} has host bits set: the block is ${numberToIpv4(network)}/${prefix}`, 'range');
    return { family: 4, network, prefix };
  }
  const shift = BigInt(128 - prefix);
  const network = (v6! >> shift) << shift;
  if (network !== v6) throw new BlockSyntaxError(`${quote(text)} has host bits set: the block is ${bigIntToIpv6(network)}/${prefix}`, 'range');
  return { family: 6, network, prefix };
}

function numberToIpv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');
}

/** A 128-bit value in IPv6's compressed form (the longest run of zero groups as `::`). */
function bigIntToIpv6(value: bigint): string {
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((value >> BigInt(i * 16)) & 0xffffn));
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) [bestStart, bestLength] = [i, j - i];
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart === -1) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}
