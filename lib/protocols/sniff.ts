/**
 * Recognising a protocol from the first bytes a client writes, looked at once per connection.
 * Only signatures that cannot be mistaken for another protocol's first bytes are here:
 *
 * - RESP, the Redis protocol: a command array, `*<n>\r\n$` (redis.io "Redis serialization
 *   protocol specification": clients send commands as arrays of bulk strings) → `redis`;
 * - an MQTT CONNECT packet: type 1 in the high nibble of the first byte (0x10), a remaining
 *   length of 1 to 4 bytes, then the protocol name `MQTT` (3.1.1, OASIS mqtt-v3.1.1 §3.1.2.1;
 *   5.0, OASIS mqtt-v5.0 §3.1.2.1) or `MQIsdp` (3.1) → `stream`;
 * - the HTTP/2 client connection preface, `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n` (RFC 9113 §3.4)
 *   → `stream`: HTTP/2 multiplexes long-lived streams and has its own PING.
 */
import { PROTOCOL_IDS } from './index';
import { looksLikeResp } from './redis';

/** How many bytes of the first write are looked at. */
export const SNIFF_BYTES = 32;

const HTTP2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
const MQTT = Buffer.from('MQTT', 'latin1');
const MQISDP = Buffer.from('MQIsdp', 'latin1');

/** Can a write starting with this byte be one of the signatures? (`*` RESP, 0x10 MQTT CONNECT, `P` the HTTP/2 preface.) */
export function mayBeSignature(firstByte: number): boolean {
  return firstByte === 0x2a || firstByte === 0x10 || firstByte === 0x50;
}

/** The protocol id the first bytes of a connection show, or `undefined` when they show none. */
export function protocolOfFirstBytes(head: Buffer): number | undefined {
  if (head.length === 0) return undefined;
  if (looksLikeResp(head)) return PROTOCOL_IDS.redis;
  if (isMqttConnect(head)) return PROTOCOL_IDS.stream;
  if (head.length >= HTTP2_PREFACE.length && head.subarray(0, HTTP2_PREFACE.length).equals(HTTP2_PREFACE)) return PROTOCOL_IDS.stream;
  return undefined;
}

function isMqttConnect(head: Buffer): boolean {
  if (head[0] !== 0x10) return false;
  // Remaining length: 7 bits a byte, the high bit says another follows, at most 4 bytes.
  let i = 1;
  while (i < 5 && i < head.length && (head[i]! & 0x80) !== 0) i++;
  if (i >= 5 || i >= head.length) return false;
  const name = i + 1; // after the last length byte: the name's 2-byte length, then the name
  if (head.length < name + 2) return false;
  const length = head.readUInt16BE(name);
  const expected = length === 4 ? MQTT : length === 6 ? MQISDP : undefined;
  return expected !== undefined && head.length >= name + 2 + expected.length && head.subarray(name + 2, name + 2 + expected.length).equals(expected);
}
