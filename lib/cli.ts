#!/usr/bin/env node
/**
 * The `timeoutsocket` command: `errno` (what does this code mean?), `probe` (one connect with a
 * deadline) and `run` (a command with the shim preloaded into every Node process it starts).
 *
 * No dependencies: arguments are read with `util.parseArgs`. Exit status 2 means the command
 * line was wrong; `probe` exits 1 when the connect failed; `run` passes the child's status on.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { describe, OPERATIONS, type ClassifyContext, type Description, type Operation } from './classify';
import { ENV, parseDuration, parseKeepAlive, timeoutsFromEnv } from './config';
import { PLATFORMS, type Platform } from './errno/index';
import { normalizeError } from './normalize';
import { install } from './patch';
import { MODE_ENV, modeFromEnv } from './mode';
import { buildReport, describeReport, REPORT_FILE_ENV, reportJson } from './report/index';
import { checkRules, RULES_ENV } from './rules/index';
import { describeExplanation, explainDestination, type Explanation } from './rules/explain';
import { protocolForPort } from './protocols/ports';
import { VERSION } from './version';

/** The text `--help` prints. */
export const USAGE = `Usage: timeoutsocket <command> [options]

Commands:
  errno <code> [--op OP] [--retry] [--platform P] [--json]
      Describe and classify an error code: a name (ECONNREFUSED), a number
      (10061, -111, 111) or a message ("host not found").
        --op OP         the call that failed: ${[...OPERATIONS].join(', ')}
        --retry         the code came from a second connect() on the same socket
        --platform P    whose numbers a bare number is in: ${[...PLATFORMS].join(', ')}
                        (default: this machine)

  probe <host:port> [--timeout DURATION] [--explain [--rules RULES]] [--json]
      Connect once with a deadline and report the outcome, its category and
      the time it took. Use [::1]:port for IPv6 addresses.
        --timeout D     the connect deadline, DNS included (default 2s)
        --explain       also print which rule, protocol, deadlines and mode
                        apply to this destination (from TIMEOUTSOCKET_RULES
                        and TIMEOUTSOCKET_*, or --rules)
        --rules RULES   the rules to explain instead of TIMEOUTSOCKET_RULES

  run [timeouts] [--] <command> [args...]
      Run a command with the shim preloaded into every Node process it starts
      (appended to NODE_OPTIONS) and the timeouts set in TIMEOUTSOCKET_*.
        --timeout D           every phase           (TIMEOUTSOCKET_TIMEOUT)
        --connect-timeout D   connect, DNS included (TIMEOUTSOCKET_CONNECT_TIMEOUT)
        --read-timeout D      wait for a reply      (TIMEOUTSOCKET_READ_TIMEOUT)
        --write-timeout D     a stalled write       (TIMEOUTSOCKET_WRITE_TIMEOUT)
        --keepalive D[,I,N]   TCP keep-alive delay [, probe interval, count: Node 24+]  (TIMEOUTSOCKET_KEEPALIVE)
        --rules RULES         rules per destination (TIMEOUTSOCKET_RULES), e.g.
                              "db.internal:5432 read=60s; *:6379 protocol=redis"
        --report              report mode (TIMEOUTSOCKET_MODE=report): nothing is
                              destroyed; every deadline that runs out is recorded,
                              and at the end a table of them and the suggested
                              TIMEOUTSOCKET_RULES are printed on stderr
        --report-file F       where the processes append their records (default:
                              a new file in the temporary directory; emptied first)
        --json                the report as one JSON object instead of the table

  report <file> [--json]
      Print the table and the suggested rules of a report file written by
      run --report.

Options:
  --json          print one JSON object (errno, probe, report, run --report)
  -h, --help      print this help
  -v, --version   print the version

Durations: 400 or 400ms (milliseconds), 2s, 1.5s, 1m, 1h.

Exit status: 0 success; 1 the probe failed, or the report file cannot be
read; 2 a usage error; run: the
command's own status, or 128+N when a signal N killed it (127: not found).
`;

/** A mistake on the command line: printed with a pointer to `--help`, exit status 2. */
class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** What one `errno` lookup prints with `--json`. */
export interface ErrnoReport extends Description {
  /** The code as given on the command line (several words are joined by spaces). */
  readonly input: string;
  /** `--op`, or null. */
  readonly op: Operation | null;
  /** `--retry`. */
  readonly retry: boolean;
}

/** What `probe` prints with `--json`. Every field is always present; null when it does not apply. */
export interface ProbeReport {
  /** The target as given, normalized (`127.0.0.1:80`, `[::1]:80`). */
  readonly target: string;
  /** The host part (a name or an address, without brackets). */
  readonly host: string;
  /** The port. */
  readonly port: number;
  /** The connect deadline in milliseconds. */
  readonly timeoutMs: number;
  /** True when the connection was made. */
  readonly ok: boolean;
  /** `'connected'`, or the category of the failure (`'refused'`, `'timeout'`, `'host-not-found'`, …). */
  readonly category: string;
  /** Milliseconds from `connect()` to the outcome, to 0.1 ms. */
  readonly elapsedMs: number;
  /** The address connected to, or the one the error names; null if none. */
  readonly address: string | null;
  /** The error's code (`'ECONNREFUSED'`), errno, syscall and message; null when connected. */
  readonly code: string | null;
  readonly errno: number | null;
  readonly syscall: string | null;
  readonly message: string | null;
  /** With `--explain` only: the rule, protocol and deadlines for this destination. */
  readonly explain?: Explanation;
}

/** Runs the command line `argv` (without `node` and the script) and resolves with the exit status. */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    const [verb, ...rest] = argv;
    switch (verb) {
      case undefined:
        throw new UsageError('missing a command: errno, probe, run or report');
      case '-h':
      case '--help':
      case 'help':
        process.stdout.write(USAGE);
        return 0;
      case '-v':
      case '--version':
        process.stdout.write(`${VERSION}\n`);
        return 0;
      case 'errno':
        return errnoCommand(rest);
      case 'probe':
        return await probeCommand(rest);
      case 'run':
        return await runCommand(rest);
      case 'report':
        return reportCommand(rest);
      default:
        throw new UsageError(`unknown command ${JSON.stringify(verb)}: expected errno, probe, run or report`);
    }
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`timeoutsocket: ${error.message}\nRun 'timeoutsocket --help' for usage.\n`);
    return 2;
  }
}

// ---------------------------------------------------------------------------------------------
// errno
// ---------------------------------------------------------------------------------------------

function errnoCommand(args: readonly string[]): number {
  const { values, positionals } = parse(args, {
    op: { type: 'string' },
    retry: { type: 'boolean' },
    platform: { type: 'string' },
    json: { type: 'boolean' },
  }, true);
  if (values.help) return help();
  if (positionals.length === 0) {
    throw new UsageError('errno: missing <code>: a name (ECONNREFUSED), a number (10061, -111) or a message');
  }
  const input = positionals.join(' ');
  const op = oneOf(values.op, OPERATIONS, '--op') as Operation | undefined;
  const platform = oneOf(values.platform, PLATFORMS, '--platform') as Platform | undefined;
  const context: ClassifyContext = { op, retry: values.retry === true, platform };
  let description: Description;
  try {
    description = describe(input, context);
  } catch (error) {
    // A malformed code (0, 1.5) is a command-line mistake.
    if (error instanceof RangeError || error instanceof TypeError) throw new UsageError(`errno: ${error.message.replace(/^classify: /, '')}`);
    throw error;
  }
  const report: ErrnoReport = { input, op: op ?? null, retry: values.retry === true, ...description };
  if (values.json) {
    print(report);
  } else {
    const number = description.number === null ? '-' : String(description.number);
    process.stdout.write(
      [
        `${input} -> ${description.category}`,
        `  code      ${description.code}`,
        `  names     ${description.names.length > 0 ? description.names.join(', ') : '-'}`,
        `  number    ${number}`,
        `  source    ${SOURCES[description.source]}${description.source === 'libuv' || description.source === 'errno' ? ` (${description.platform} numbers)` : ''}`,
        `  why       ${description.message}`,
        '',
      ].join('\n'),
    );
  }
  return 0;
}

/** How the human output names the table that answered. */
const SOURCES: Readonly<Record<Description['source'], string>> = {
  libuv: 'libuv (what Node puts in err.errno)',
  errno: 'the operating system\'s errno',
  winsock: 'Windows Sockets',
  node: 'Node (a code string with no number)',
  none: 'none: no table lists it',
};

// ---------------------------------------------------------------------------------------------
// probe
// ---------------------------------------------------------------------------------------------

/** The probe's deadline when `--timeout` is not given. */
const DEFAULT_PROBE_TIMEOUT = '2s';

async function probeCommand(args: readonly string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    timeout: { type: 'string' },
    json: { type: 'boolean' },
    explain: { type: 'boolean' },
    rules: { type: 'string' },
  });
  if (values.help) return help();
  if (values.rules !== undefined && !values.explain) throw new UsageError('probe: --rules goes with --explain');
  if (positionals.length !== 1) {
    throw new UsageError(positionals.length === 0 ? 'probe: missing <host:port>' : `probe: expected one <host:port>, got ${positionals.length}`);
  }
  const { host, port } = parseTarget(positionals[0]);
  const timeoutMs = duration(values.timeout ?? DEFAULT_PROBE_TIMEOUT, '--timeout');
  // Checked before connecting: a bad rule is a usage error, not a probe outcome.
  const given = typeof values.rules === 'string' ? values.rules : undefined;
  const rules = values.explain ? rulesOption(given ?? process.env[RULES_ENV] ?? null, given !== undefined ? '--rules' : RULES_ENV) : null;
  const probed = await probe(host, port, timeoutMs);
  const report: ProbeReport = values.explain ? { ...probed, explain: explainProbe(probed, rules) } : probed;
  if (values.json) print(report);
  else process.stdout.write(`${describeProbe(report)}\n${report.explain === undefined ? '' : `${describeExplanation(report.explain).join('\n')}\n`}`);
  return report.ok ? 0 : 1;
}

/**
 * `--explain`: the rule, protocol and deadlines of this destination, as a process started with
 * this environment would get them: the defaults from `TIMEOUTSOCKET_*`, the rules from
 * `--rules` or `TIMEOUTSOCKET_RULES`, matched against the address connected to when the probe
 * connected.
 */
function explainProbe(report: ProbeReport, rules: string | null): Explanation {
  let defaults;
  let mode;
  try {
    defaults = timeoutsFromEnv(process.env);
    mode = modeFromEnv(process.env);
  } catch (error) {
    throw new UsageError(`probe: ${(error as Error).message}`);
  }
  return explainDestination(report.host, report.port, { rules, defaults, mode, protocolForPort, address: report.ok ? (report.address ?? undefined) : undefined });
}

/** Rules given on the command line or in the environment, checked as the shim would check them. */
function rulesOption(text: string | null, name: string): string | null {
  if (text === null) return null;
  try {
    checkRules(text, name);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  return text;
}

/**
 * Reads `host:port` or `[v6-address]:port`. A bare IPv6 address is refused rather than guessed
 * at: in `::1:80` the port cannot be told from the address.
 */
function parseTarget(text: string): { host: string; port: number } {
  const match = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:[\]]+):(\d+)$/.exec(text);
  if (match === null) {
    const hint = net.isIPv6(text.replace(/:\d+$/, '')) || net.isIPv6(text) ? ' (put an IPv6 address in brackets: [::1]:8080)' : '';
    throw new UsageError(`probe: expected <host:port> such as 127.0.0.1:8080 or [::1]:8080, got ${JSON.stringify(text)}${hint}`);
  }
  const [, host, portText] = match;
  const port = Number(portText);
  if (!(port >= 1 && port <= 65535)) throw new UsageError(`probe: the port must be 1 to 65535, got ${portText}`);
  if (text.startsWith('[') && !net.isIPv6(host)) throw new UsageError(`probe: ${JSON.stringify(host)} in brackets is not an IPv6 address`);
  return { host, port };
}

function showTarget(host: string, port: number): string {
  return net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

/** One connect through the shim, its deadline set on the socket itself. */
async function probe(host: string, port: number, timeoutMs: number): Promise<ProbeReport> {
  install(); // this process's sockets get deadlines; the environment's defaults are not applied
  const socket = new net.Socket();
  socket.setSocketTimeout({ connect: timeoutMs });
  const started = performance.now();
  const outcome = await new Promise<{ error?: Error }>((resolve) => {
    socket.once('connect', () => resolve({}));
    socket.once('error', (error) => resolve({ error }));
    socket.connect({ host, port });
  });
  const elapsedMs = Math.round((performance.now() - started) * 10) / 10;
  const base = { target: showTarget(host, port), host, port, timeoutMs, elapsedMs };
  if (outcome.error === undefined) {
    const address = socket.remoteAddress ?? null;
    socket.destroy();
    return { ...base, ok: true, category: 'connected', address, code: null, errno: null, syscall: null, message: null };
  }
  const error = normalizeError(outcome.error, { op: 'connect', ...(net.isIP(host) === 0 ? { hostname: host } : { address: host }), port });
  return {
    ...base,
    ok: false,
    category: error.category,
    address: error.address ?? null,
    code: error.code,
    errno: error.errno,
    syscall: error.syscall,
    message: error.message,
  };
}

function describeProbe(report: ProbeReport): string {
  if (report.ok) {
    const via = report.address !== null && report.address !== report.host ? ` (${report.address})` : '';
    return `${report.target}: connected in ${report.elapsedMs} ms${via}`;
  }
  return `${report.target}: ${report.category} after ${report.elapsedMs} ms (${report.code}: ${report.message})`;
}

// ---------------------------------------------------------------------------------------------
// run
// ---------------------------------------------------------------------------------------------

/** `run`'s options and the variable each sets. */
const RUN_TIMEOUTS = {
  'timeout': ENV.timeout,
  'connect-timeout': ENV.connect,
  'read-timeout': ENV.read,
  'write-timeout': ENV.write,
  'keepalive': ENV.keepAlive,
} as const;

/** `run`'s option that sets TIMEOUTSOCKET_RULES (a text, not a duration). */
const RUN_RULES = 'rules';

/** `run`'s report options: `--report` and `--json` are flags, `--report-file` takes a value. */
const RUN_REPORT_OPTIONS = {
  'report': { type: 'boolean' },
  'report-file': { type: 'string' },
  'json': { type: 'boolean' },
} as const;

/** The signals `run` passes on to the command (the ones a terminal or a supervisor sends). */
const FORWARDED_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

async function runCommand(args: readonly string[]): Promise<number> {
  const [head, command] = splitCommand(args);
  const options = {
    ...Object.fromEntries([...Object.keys(RUN_TIMEOUTS), RUN_RULES].map((name) => [name, { type: 'string' as const }])),
    ...RUN_REPORT_OPTIONS,
  };
  const { values } = parse(head, options, false, false);
  if (values.help) return help();
  if (!values.report && (values['report-file'] !== undefined || values.json)) {
    throw new UsageError(`run: ${values.json ? '--json' : '--report-file'} goes with --report`);
  }
  if (command.length === 0) throw new UsageError('run: missing the command to run: timeoutsocket run [timeouts] -- <command> [args...]');
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [name, variable] of Object.entries(RUN_TIMEOUTS)) {
    const value = values[name];
    if (typeof value === 'string') env[variable] = name === 'keepalive' ? keepAlive(value) : String(duration(value, `--${name}`));
  }
  // Validated here, so a bad rule stops `run` before anything starts (the child would stop too, later).
  if (typeof values[RUN_RULES] === 'string') env[RULES_ENV] = rulesOption(values[RUN_RULES] as string, '--rules') ?? '';
  env.NODE_OPTIONS = withPreload(process.env.NODE_OPTIONS, path.join(__dirname, 'register.js'));
  if (!values.report) return runChild(command[0], command.slice(1), env);
  const file = path.resolve(typeof values['report-file'] === 'string' ? values['report-file'] : defaultReportFile());
  try {
    fs.writeFileSync(file, ''); // this run's records only
  } catch (error) {
    throw new UsageError(`run: cannot write the report file ${JSON.stringify(file)}: ${(error as Error).message}`);
  }
  env[MODE_ENV] = 'report';
  env[REPORT_FILE_ENV] = file;
  const status = await runChild(command[0], command.slice(1), env);
  // On stderr: stdout is the command's own.
  const report = buildReport(fs.readFileSync(file, 'utf8'));
  if (values.json) process.stderr.write(`${JSON.stringify({ file, ...reportJson(report) })}\n`);
  else process.stderr.write(`\n${describeReport(report)}(records: ${file}; print them again with: timeoutsocket report ${file})\n`);
  return status;
}

/** A fresh report file in the temporary directory. */
function defaultReportFile(): string {
  return path.join(os.tmpdir(), `timeoutsocket-report-${process.pid}-${Date.now()}.jsonl`);
}

// ---------------------------------------------------------------------------------------------
// report
// ---------------------------------------------------------------------------------------------

function reportCommand(args: readonly string[]): number {
  const { values, positionals } = parse(args, { json: { type: 'boolean' } });
  if (values.help) return help();
  if (positionals.length !== 1) throw new UsageError('report: expected one report file: timeoutsocket report <file> [--json]');
  let text: string;
  try {
    text = fs.readFileSync(positionals[0], 'utf8');
  } catch (error) {
    process.stderr.write(`timeoutsocket: report: cannot read ${JSON.stringify(positionals[0])}: ${(error as Error).message}\n`);
    return 1;
  }
  const report = buildReport(text);
  if (values.json) print(reportJson(report));
  else process.stdout.write(describeReport(report));
  return 0;
}

/**
 * Splits `run`'s arguments into its own options and the command: at the first `--`, or else at
 * the first argument that is neither an option nor an option's value (`run --timeout 2s node app.js`).
 */
function splitCommand(args: readonly string[]): [string[], string[]] {
  const dashes = args.indexOf('--');
  if (dashes !== -1) return [args.slice(0, dashes), args.slice(dashes + 1)];
  let index = 0;
  while (index < args.length && args[index].startsWith('-')) {
    const option = args[index].slice(2);
    index += option in RUN_TIMEOUTS || option === RUN_RULES || option === 'report-file' ? 2 : 1; // `--timeout 2s` takes the next argument; `--timeout=2s` does not
  }
  return [args.slice(0, index), args.slice(index)];
}

/**
 * `NODE_OPTIONS` with `--require=<register.js>` appended, keeping what was there. Node splits
 * NODE_OPTIONS on spaces but honours double quotes, with `\` escaping inside them
 * (src/node_options.cc ParseNodeOptionsEnvVar), so a path with a space or a quote is quoted.
 * Nothing is added when the same option is already there (a `run` inside a `run`).
 *
 * @example
 * ```ts
 * withPreload('--max-old-space-size=512', '/opt/my app/register.js');
 * // '--max-old-space-size=512 --require="/opt/my app/register.js"'
 * ```
 */
export function withPreload(nodeOptions: string | undefined, registerPath: string): string {
  const file = /[\s"]/.test(registerPath) ? `"${registerPath.replace(/[\\"]/g, '\\$&')}"` : registerPath;
  const option = `--require=${file}`;
  const existing = nodeOptions?.trim() ?? '';
  if (existing.split(/\s+/).includes(option)) return existing;
  return existing === '' ? option : `${existing} ${option}`;
}

/** Starts the command, passes signals on, and resolves with its exit status as a shell reports it. */
function runChild(command: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: 'inherit', env });
    const forward = (signal: NodeJS.Signals) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    };
    for (const signal of FORWARDED_SIGNALS) process.on(signal, forward);
    let settled = false;
    const settle = (status: number) => {
      if (settled) return;
      settled = true;
      for (const signal of FORWARDED_SIGNALS) process.off(signal, forward);
      resolve(status);
    };
    child.once('error', (error: NodeJS.ErrnoException) => {
      // spawn failed: the status a shell gives, 127 for not found and 126 for not executable.
      process.stderr.write(`timeoutsocket: cannot run ${JSON.stringify(command)}: ${error.message}\n`);
      settle(error.code === 'ENOENT' ? 127 : 126);
    });
    child.once('exit', (code, signal) => {
      settle(code ?? 128 + (signal === null ? 0 : (os.constants.signals[signal] ?? 0)));
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------------------------

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * `util.parseArgs`, strict, with `-h/--help`; errors become usage errors. With `negatives`, an
 * argument such as `-111` is a positional (a libuv number), not an unknown option `-1`.
 */
function parse(args: readonly string[], options: Options, negatives = false, positionals = true) {
  let list = [...args];
  const numbers = negatives && !list.includes('--') ? list.filter((arg) => /^-\d+$/.test(arg)) : [];
  if (numbers.length > 0) list = [...list.filter((arg) => !/^-\d+$/.test(arg)), '--', ...numbers];
  try {
    return parseArgs({
      args: list,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: positionals,
    }) as { values: Record<string, string | boolean | undefined>; positionals: string[] };
  } catch (error) {
    if ((error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) throw new UsageError((error as Error).message);
    throw error;
  }
}

function oneOf(value: string | boolean | undefined, allowed: ReadonlySet<string>, option: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !allowed.has(value)) {
    throw new UsageError(`${option} must be one of ${[...allowed].join(', ')}, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** A duration option, validated exactly as the environment is (`parseDuration`). */
function duration(value: string | boolean | undefined, option: string): number {
  try {
    return parseDuration(String(value), option);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/**
 * `--keepalive`: a delay, or a delay, probe interval and count (`30s,5s,4`), validated as the
 * environment is (`parseKeepAlive`). Whether this Node line takes the interval and count is the
 * child's to say: it may run on another line.
 */
function keepAlive(value: string): string {
  try {
    const { delay, probes } = parseKeepAlive(value, '--keepalive');
    return probes === null ? String(delay) : `${delay},${probes.interval},${probes.count}`;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function help(): number {
  process.stdout.write(USAGE);
  return 0;
}

function print(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (status) => {
      process.exitCode = status;
    },
    (error: unknown) => {
      process.stderr.write(`timeoutsocket: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
