import { PROTOCOL_SETTINGS } from '../../lib/protocols/names';
import { PORT_TABLE, portRow, protocolForPort } from '../../lib/protocols/ports';

describe('the port table', () => {
  it.each(PORT_TABLE.map((row) => [row.port, row]))('port %i: a protocol, a service and a source', (_port, row) => {
    expect(PROTOCOL_SETTINGS).toContain(row.protocol);
    expect(row.protocol).not.toBe('auto');
    expect(row.service.length).toBeGreaterThan(0);
    expect(row.source).toMatch(/IANA|RFC|de facto|OASIS/);
    expect(protocolForPort(row.port)).toBe(row.protocol);
    expect(portRow(row.port)).toBe(row);
  });

  it('holds exactly the ports of the contract, ascending', () => {
    const expected: Record<string, number[]> = {
      'server-first': [21, 22, 25, 110, 143, 465, 587, 993, 995, 2525, 3306],
      stream: [514, 601, 1883, 2003, 6514, 8883, 24224],
      redis: [6379, 6380],
    };
    for (const [protocol, ports] of Object.entries(expected)) {
      expect(PORT_TABLE.filter((row) => row.protocol === protocol).map((row) => row.port)).toEqual(ports);
    }
    const ports = PORT_TABLE.map((row) => row.port);
    expect(ports).toEqual([...ports].sort((a, b) => a - b));
  });

  it('gives no protocol for a port it does not list', () => {
    expect(protocolForPort(8080)).toBeUndefined();
    expect(protocolForPort(0)).toBeUndefined();
  });
});
