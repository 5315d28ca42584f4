/**
 * Well-known ports and the protocol a connection to them runs, as data (like the errno tables):
 * the fourth way a connection's protocol is chosen, after a rule, the client layer and the
 * first bytes the client writes. Consulted at connect, since `server-first` must arm its
 * deadline before any write. Each row names the service and where the port and the
 * protocol's shape come from.
 */
import type { ProtocolName } from './names';

/** One row of {@link PORT_TABLE}. */
export interface PortRow {
  readonly port: number;
  readonly protocol: ProtocolName;
  /** The service usually found there. */
  readonly service: string;
  /** Where the port assignment and who speaks first come from. */
  readonly source: string;
}

/** The well-known ports, ascending. */
export const PORT_TABLE: readonly PortRow[] = Object.freeze([
  { port: 21, protocol: 'server-first', service: 'FTP control', source: 'IANA ftp 21/tcp; RFC 959 §5.4: the server sends a 220 reply on connect' },
  { port: 22, protocol: 'server-first', service: 'SSH', source: 'IANA ssh 22/tcp; RFC 4253 §4.2: the identification string is sent when the connection is established' },
  { port: 25, protocol: 'server-first', service: 'SMTP', source: 'IANA smtp 25/tcp; RFC 5321 §3.1: the client waits for the server\'s 220 greeting' },
  { port: 110, protocol: 'server-first', service: 'POP3', source: 'IANA pop3 110/tcp; RFC 1939 §4: the server sends a greeting on connect' },
  { port: 143, protocol: 'server-first', service: 'IMAP', source: 'IANA imap 143/tcp; RFC 9051 §7.1: the server sends a greeting on connect' },
  { port: 465, protocol: 'server-first', service: 'SMTP submission over TLS', source: 'IANA submissions 465/tcp; RFC 8314 §3.3: implicit TLS, then the SMTP greeting' },
  { port: 514, protocol: 'stream', service: 'syslog over TCP', source: 'de facto port of syslog over TCP (RFC 6587 §1; IANA lists 514/tcp as shell): the client only sends' },
  { port: 587, protocol: 'server-first', service: 'SMTP submission', source: 'IANA submission 587/tcp; RFC 6409 §3.1, with RFC 5321 §3.1\'s greeting' },
  { port: 601, protocol: 'stream', service: 'syslog (reliable delivery)', source: 'IANA syslog-conn 601/tcp; RFC 3195 / RFC 6587: the client only sends' },
  { port: 993, protocol: 'server-first', service: 'IMAP over TLS', source: 'IANA imaps 993/tcp; RFC 8314 §3.2: implicit TLS, then the IMAP greeting' },
  { port: 995, protocol: 'server-first', service: 'POP3 over TLS', source: 'IANA pop3s 995/tcp; RFC 8314 §3.2: implicit TLS, then the POP3 greeting' },
  { port: 1883, protocol: 'stream', service: 'MQTT', source: 'IANA mqtt 1883/tcp; OASIS MQTT 5.0 §4.2: QoS 0 publishes get no answer, keep-alive is the client\'s PINGREQ' },
  { port: 2003, protocol: 'stream', service: 'Graphite plaintext', source: 'de facto (Graphite carbon-cache\'s line receiver default, not IANA-assigned): the client only sends' },
  { port: 2525, protocol: 'server-first', service: 'SMTP (alternative)', source: 'de facto alternative SMTP submission port offered by mail providers (not IANA-assigned); RFC 5321 §3.1 greeting' },
  { port: 3306, protocol: 'server-first', service: 'MySQL / MariaDB', source: 'IANA mysql 3306/tcp; MySQL client/server protocol, connection phase: the server sends the initial handshake packet' },
  { port: 6379, protocol: 'redis', service: 'Redis', source: 'IANA redis 6379/tcp' },
  { port: 6380, protocol: 'redis', service: 'Redis (TLS or second instance)', source: 'de facto (Redis TLS / second-instance convention, e.g. Azure Cache for Redis\'s TLS port; not IANA-assigned)' },
  { port: 6514, protocol: 'stream', service: 'syslog over TLS', source: 'IANA syslog-tls 6514/tcp; RFC 5425: the client only sends' },
  { port: 8883, protocol: 'stream', service: 'MQTT over TLS', source: 'IANA secure-mqtt 8883/tcp; OASIS MQTT 5.0 §4.2' },
  { port: 24224, protocol: 'stream', service: 'Fluentd forward', source: 'de facto (Fluentd in_forward default, not IANA-assigned); the forward protocol acknowledges only on request' },
] satisfies PortRow[]);

const BY_PORT: ReadonlyMap<number, PortRow> = new Map(PORT_TABLE.map((row) => [row.port, row]));

/**
 * The protocol the port table gives a destination port, or `undefined` when the port is not in
 * it (the connection is then `request-reply` unless a rule, its client layer or its first bytes
 * say otherwise). For `timeoutsocket probe --explain`.
 *
 * @example
 * ```ts
 * protocolForPort(25);   // 'server-first'
 * protocolForPort(8080); // undefined
 * ```
 */
export function protocolForPort(port: number): ProtocolName | undefined {
  return BY_PORT.get(port)?.protocol;
}

/** The full row for a port, with its service and source, or `undefined`. */
export function portRow(port: number): PortRow | undefined {
  return BY_PORT.get(port);
}
