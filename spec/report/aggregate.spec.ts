/**
 * The rollout report's pure parts: reading records, the table's rows, the suggested rules and
 * the text.
 */
import { aggregate, destinationLabel, percentile99 } from '../../lib/report/aggregate';
import { buildReport, describeReport, reportJson } from '../../lib/report/index';
import { parseRecords, recordLine, RECORD_VERSION, type DeadlineRecord, type ProcessRecord } from '../../lib/report/records';
import { formatElapsed, roundAbove, suggest } from '../../lib/report/suggest';
import { checkRules } from '../../lib/rules/index';

function record(fields: Partial<DeadlineRecord>): DeadlineRecord {
  return {
    v: RECORD_VERSION,
    kind: 'late',
    pid: 1,
    phase: 'read',
    timeout: 1000,
    elapsed: 1500,
    host: 'db.internal',
    address: '10.0.0.5',
    port: 5432,
    acceptedOn: null,
    protocol: null,
    rule: null,
    ...fields,
  };
}

function processRecord(pid: number, rules: string | null = null): ProcessRecord {
  return { v: RECORD_VERSION, kind: 'process', pid, ppid: 0, argv: ['node', 'app.js'], rules, ended: 'exit' };
}

function text(records: Array<DeadlineRecord | ProcessRecord>): string {
  return records.map(recordLine).join('');
}

describe('parseRecords', () => {
  it('reads deadline and process records, skips blank lines and counts the unreadable', () => {
    const lines = [
      recordLine(record({})),
      '',
      '{"v":1,"kind":"never","pid":2,"pha', // cut by a crash
      recordLine(processRecord(2)),
      '{"v":2,"kind":"late"}', // another version
      '{"v":1,"kind":"late","phase":"idle","timeout":1,"elapsed":2}',
      '[]',
    ].join('\n');
    const parsed = parseRecords(lines);
    expect(parsed.deadlines).toHaveLength(1);
    expect(parsed.processes).toHaveLength(1);
    expect(parsed.unreadable).toBe(4);
  });
});

describe('aggregate', () => {
  it('makes one row per destination, protocol, rule and phase, over every process', () => {
    const report = aggregate(
      parseRecords(
        text([
          record({ pid: 1, elapsed: 1200 }),
          record({ pid: 2, elapsed: 2500 }),
          record({ pid: 3, kind: 'never', elapsed: 9000, ended: 'close', error: null, wroteAfter: 0 }),
          record({ pid: 3, phase: 'connect', kind: 'never', ended: 'error', error: 'ETIMEDOUT' }),
          record({ pid: 3, host: '::1', address: '::1', port: 6379, protocol: 'redis', rule: { index: 1, text: '*:6379 protocol=redis' } }),
          processRecord(1),
          processRecord(2),
          processRecord(3),
          processRecord(4),
        ]),
      ),
    );
    expect(report).toMatchObject({ processes: 4, ranOut: 5, unreadable: 0, rules: [] });
    expect(report.rows.map((row) => [row.destination, row.phase, row.ranOut, row.late, row.never])).toEqual([
      ['[::1]:6379', 'read', 1, 1, 0],
      ['db.internal:5432', 'connect', 1, 0, 1],
      ['db.internal:5432', 'read', 3, 2, 1],
    ]);
    expect(report.rows[2]).toMatchObject({ lateP99: 1500, lateMax: 1500, answeredMax: 2500, neverButWriting: 0 });
    expect(report.rows[0]).toMatchObject({ protocol: 'redis', rule: { index: 1 } });
  });

  it('counts the never answered that went on writing and ended without an error', () => {
    const report = aggregate(
      parseRecords(
        text([
          record({ kind: 'never', ended: 'exit', error: null, wroteAfter: 120 }),
          record({ kind: 'never', ended: 'close', error: null, wroteAfter: 40 }),
          record({ kind: 'never', ended: 'error', error: 'ECONNRESET', wroteAfter: 40 }),
          record({ kind: 'never', ended: 'close', error: null, wroteAfter: 0 }),
        ]),
      ),
    );
    expect(report.rows[0]).toMatchObject({ never: 4, neverButWriting: 2, late: 0, lateP99: null, answeredMax: null });
  });

  it('names accepted sockets by the port they were accepted on', () => {
    expect(destinationLabel({ host: null, address: '10.1.1.1', port: 51000, acceptedOn: 8080 })).toBe('accepted on :8080');
    expect(destinationLabel({ host: 'fd00::1', address: 'fd00::1', port: 80, acceptedOn: null })).toBe('[fd00::1]:80');
    expect(destinationLabel({ host: 'db', address: null, port: 5432, acceptedOn: null })).toBe('db:5432');
  });
});

describe('percentile99 (nearest rank)', () => {
  it.each<[number[], number | null]>([
    [[], null],
    [[7], 7],
    [[1, 2, 3], 3],
    [Array.from({ length: 100 }, (_, i) => i + 1), 99],
    [Array.from({ length: 200 }, (_, i) => i + 1), 198],
  ])('%j -> %p', (values, expected) => {
    expect(percentile99(values)).toBe(expected);
  });
});

describe('roundAbove', () => {
  it.each([
    [603, 1000],
    [790, 1000],
    [810, 1500],
    [2510, 5000],
    [1, 100],
    [50_000, 90_000],
    [3_000_000, 7_200_000],
  ])('%d ms -> %d ms, at least a quarter above', (ms, expected) => {
    expect(roundAbove(ms)).toBe(expected);
    expect(roundAbove(ms)).toBeGreaterThanOrEqual(ms * 1.25);
  });
});

describe('suggest', () => {
  it('a read= above the longest late answer, for a destination that answers slowly', () => {
    const report = aggregate(parseRecords(text([record({ elapsed: 1200 }), record({ elapsed: 2510 })])));
    const suggestion = suggest(report);
    expect(suggestion.added).toEqual([
      { destination: 'db.internal:5432', settings: { read: 5000 }, text: 'db.internal:5432 read=5s', why: ['read: answered late, the longest after 2.51 s'] },
    ]);
    expect(suggestion.rules).toBe('db.internal:5432 read=5s');
    expect(suggestion.hangs).toEqual([]);
    expect(() => checkRules(suggestion.rules)).not.toThrow();
  });

  it('connect= and write= too, for slow connects and slow readers', () => {
    const report = aggregate(parseRecords(text([record({ phase: 'connect', elapsed: 1400 }), record({ phase: 'write', elapsed: 700, timeout: 500 })])));
    expect(suggest(report).added[0].text).toBe('db.internal:5432 connect=2s write=1s');
  });

  it('protocol=stream for a destination written to, never answered, ended cleanly', () => {
    const shipper = { host: 'logs', address: '10.0.0.9', port: 5140, kind: 'never' as const, error: null };
    const report = aggregate(
      parseRecords(text([record({ ...shipper, ended: 'close', wroteAfter: 300 }), record({ ...shipper, ended: 'exit', wroteAfter: 80 })])),
    );
    const suggestion = suggest(report);
    expect(suggestion.rules).toBe('logs:5140 protocol=stream');
    expect(suggestion.added[0].why).toEqual(['protocol: written to after the reply deadline ran out, never answered, ended without an error']);
    expect(suggestion.hangs).toEqual([]);
  });

  it('no rule for real hangs: a request never answered, a connect that never completed, a stalled write', () => {
    const report = aggregate(
      parseRecords(
        text([
          record({ kind: 'never', ended: 'close', error: null, wroteAfter: 0 }),
          record({ kind: 'never', ended: 'error', error: 'ECONNRESET', wroteAfter: 10, port: 1 }),
          record({ kind: 'never', phase: 'connect', ended: 'close', error: null, wroteAfter: 0, port: 2 }),
          record({ kind: 'never', phase: 'write', ended: 'exit', error: null, wroteAfter: 0, port: 3 }),
        ]),
      ),
    );
    const suggestion = suggest(report);
    expect(suggestion.rules).toBeNull();
    expect(suggestion.hangs.map((row) => `${row.destination} ${row.phase}`)).toEqual([
      'db.internal:1 read',
      'db.internal:2 connect',
      'db.internal:3 write',
      'db.internal:5432 read',
    ]);
  });

  it('keeps the settings of the rule that applied, and puts the new rules before those in force', () => {
    const rules = '*:6379 protocol=redis connect=1s; db.internal:5432 read=2s';
    const report = aggregate(
      parseRecords(
        text([
          record({ host: 'cache', port: 6379, timeout: 500, elapsed: 900, protocol: 'redis', rule: { index: 1, text: '*:6379 protocol=redis connect=1s' } }),
          processRecord(1, rules),
        ]),
      ),
    );
    const suggestion = suggest(report);
    expect(suggestion.added[0].text).toBe('cache:6379 connect=1s read=1500ms protocol=redis');
    expect(suggestion.rules).toBe(`cache:6379 connect=1s read=1500ms protocol=redis; ${rules}`);
    expect(checkRules(suggestion.rules)).toHaveLength(3);
  });

  it('suggests nothing for sockets a server accepted (no rule names them)', () => {
    const report = aggregate(parseRecords(text([record({ host: null, acceptedOn: 8080, phase: 'write', elapsed: 900, timeout: 500 })])));
    expect(suggest(report).rules).toBeNull();
  });
});

describe('the report as text and JSON', () => {
  const file = text([
    record({ elapsed: 2510 }),
    record({ host: 'logs', port: 5140, kind: 'never', ended: 'exit', error: null, wroteAfter: 64 }),
    record({ host: 'api', port: 443, kind: 'never', ended: 'close', error: null, wroteAfter: 0 }),
    processRecord(1),
  ]);

  it('prints the table, the suggested line and the hangs', () => {
    const lines = describeReport(buildReport(file)).split('\n');
    expect(lines[0]).toBe('timeoutsocket report: 1 process, 3 deadlines ran out (reported, not enforced)');
    expect(lines.slice(2, 6)).toEqual([
      'destination       protocol  phase  timeout  ran out  late  late p99  late max  never  rule',
      'api:443           -         read        1s        1     0         -         -      1  -',
      'db.internal:5432  -         read        1s        1     1   +1.51 s   +1.51 s      0  -',
      'logs:5140         -         read        1s        1     0         -         -      1  -',
    ]);
    expect(lines).toContain('  TIMEOUTSOCKET_RULES="db.internal:5432 read=5s; logs:5140 protocol=stream"');
    expect(lines).toContain('Hangs enforce mode will end (no rule suggested): api:443 read');
  });

  it('says so when nothing ran out', () => {
    expect(describeReport(buildReport(text([processRecord(1)])))).toContain('No deadline ran out: enforce mode would have cut nothing.');
  });

  it('gives the same data as JSON', () => {
    const json = reportJson(buildReport(file));
    expect(json.processes).toBe(1);
    expect(json.rows).toHaveLength(3);
    expect(json.suggestion.rules).toBe('db.internal:5432 read=5s; logs:5140 protocol=stream');
    expect(json.suggestion.hangs).toEqual([{ destination: 'api:443', phase: 'read', protocol: null, rule: null }]);
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
  });

  it.each([
    [640, '640 ms'],
    [2510, '2.51 s'],
    [12_340, '12.3 s'],
    [210_000, '3.5 min'],
  ])('formats %d ms as %s', (ms, shown) => {
    expect(formatElapsed(ms)).toBe(shown);
  });
});
