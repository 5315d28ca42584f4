/**
 * Real servers on 127.0.0.1, each on a free port with its own temporary directory: redis-server,
 * memcached, postgres, mosquitto and mariadbd from Debian's packages (scripts/setup-servers.sh installs them), and
 * small Node servers (http, a line protocol) in child processes so they can be SIGSTOPped too.
 *
 * Each server can be frozen (its whole process tree SIGSTOPped: the kernel still completes TCP
 * handshakes into the listen backlog and buffers what clients send, but nothing answers),
 * thawed, and stopped (SIGCONT first, then by PID, then its temporary directory removed).
 */
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Spawned, freezeTree, rememberDir, spawnTracked, stopTree, thawTree } from './procs';
import { HOST, freePort, waitForPort } from './ports';

/** A server the suite started and owns. */
export interface Server {
  readonly name: string;
  readonly port: number;
  readonly pid: number;
  /** SIGSTOP the server's whole process tree. */
  freeze(): void;
  /** SIGCONT the server's whole process tree. */
  thaw(): void;
  /** Stop it (SIGCONT, then its stop signal, then SIGKILL) and remove its temporary directory. */
  stop(): Promise<void>;
  /** Whether its process is still there (frozen counts). */
  alive(): boolean;
  /** The end of its output, for diagnostics. */
  log(): string;
}

const NODE_SERVER = join(__dirname, '..', 'servers', 'node-server.js');

function makeServer(name: string, port: number, spawned: Spawned, stopSignal: NodeJS.Signals, dir?: string): Server {
  let stopped = false;
  return {
    name,
    port,
    pid: spawned.proc.pid,
    alive: () => spawned.proc.alive,
    log: () => spawned.output().slice(-2000),
    freeze: () => freezeTree(spawned.proc),
    thaw: () => thawTree(spawned.proc),
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await stopTree(spawned.proc, stopSignal);
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Resolves when `pattern` shows in the process output; rejects if it exits or `withinMs` passes. */
function waitForOutput(spawned: Spawned, pattern: RegExp, withinMs: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const poll = setInterval(() => {
      if (pattern.test(spawned.output())) {
        clearInterval(poll);
        resolve();
      } else if (!spawned.proc.alive || Date.now() - started > withinMs) {
        clearInterval(poll);
        reject(new Error(`${what} did not start: ${spawned.output().slice(-2000)}`));
      }
    }, 20);
  });
}

/** Launch on a free port, retrying with another port if the first was taken in the meantime. */
async function onFreePort<S extends Server>(launch: (port: number) => Promise<S>): Promise<S> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await launch(await freePort());
    } catch (err) {
      lastError = err;
    }
  }
  throw lastError;
}

/** redis-server, no persistence, on a free loopback port. */
export function startRedis(): Promise<Server> {
  const bin = process.env.DRIVER_SUITE_REDIS_SERVER ?? 'redis-server';
  return onFreePort(async (port) => {
    const dir = mkdtempSync(join(tmpdir(), 'timeoutsocket-redis-'));
    rememberDir(dir);
    const spawned = spawnTracked(bin, [
      '--port', String(port), '--bind', HOST, '--dir', dir, '--save', '', '--appendonly', 'no',
      '--daemonize', 'no', '--protected-mode', 'no', '--logfile', '',
    ]);
    const server = makeServer('redis-server', port, spawned, 'SIGTERM', dir);
    try {
      await waitForOutput(spawned, /Ready to accept connections/, 10000, 'redis-server');
      await waitForPort(port, 5000);
      return server;
    } catch (err) {
      await server.stop();
      throw err;
    }
  });
}

/** memcached on a free loopback port, TCP only. */
export function startMemcached(): Promise<Server> {
  const bin = process.env.DRIVER_SUITE_MEMCACHED ?? 'memcached';
  return onFreePort(async (port) => {
    // memcached refuses to run as root unless told which user to become.
    const user = process.getuid?.() === 0 ? ['-u', 'nobody'] : [];
    const spawned = spawnTracked(bin, ['-l', HOST, '-p', String(port), '-U', '0', '-m', '64', '-t', '1', ...user]);
    const server = makeServer('memcached', port, spawned, 'SIGTERM');
    try {
      await waitForPort(port, 5000);
      if (!spawned.proc.alive) throw new Error(`memcached exited: ${spawned.output()}`);
      return server;
    } catch (err) {
      await server.stop();
      throw err;
    }
  });
}

/** Debian's PostgreSQL binaries: the newest /usr/lib/postgresql/<major>/bin, or the override. */
export function postgresBinDir(): string {
  const override = process.env.DRIVER_SUITE_PG_BIN;
  if (override) return override;
  const root = '/usr/lib/postgresql';
  const majors = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, 'bin', 'postgres')) && existsSync(join(root, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (majors.length === 0) throw new Error('no PostgreSQL under /usr/lib/postgresql: run scripts/setup-servers.sh');
  return join(root, majors[0], 'bin');
}

/** uid and gid of an account, from /etc/passwd. */
function account(name: string): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));
  if (!line) throw new Error(`no '${name}' account`);
  const fields = line.split(':');
  return { uid: Number(fields[2]), gid: Number(fields[3]) };
}

/**
 * postgres with a fresh cluster (initdb per call) in a temporary directory, listening on
 * 127.0.0.1 only, its unix socket in that directory. PostgreSQL refuses to run as root, so
 * under root both initdb and postgres run as the `postgres` account, which owns the directory.
 */
export async function startPostgres(): Promise<Server> {
  const bin = postgresBinDir();
  const dir = mkdtempSync(join(tmpdir(), 'timeoutsocket-pg-'));
  rememberDir(dir);
  const as = process.getuid?.() === 0 ? account('postgres') : undefined;
  if (as) chownSync(dir, as.uid, as.gid);
  const data = join(dir, 'data');
  const env = { ...process.env, LC_ALL: 'C', LANG: 'C' };
  const ids = as ? { uid: as.uid, gid: as.gid } : {};
  const initdb = spawnTracked(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync'], {
    cwd: dir,
    env,
    ...ids,
  });
  const code = await initdb.finished;
  if (code !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed (${code}): ${initdb.output().slice(-2000)}`);
  }
  try {
    return await onFreePort(async (port) => {
      const spawned = spawnTracked(join(bin, 'postgres'), [
        '-D', data, '-h', HOST, '-p', String(port), '-k', dir,
        '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off',
        '-c', 'max_connections=30', '-c', 'shared_buffers=16MB', '-c', 'logging_collector=off',
      ], { cwd: dir, env, ...ids });
      try {
        await waitForOutput(spawned, /ready to accept connections/, 20000, 'postgres');
        await waitForPort(port, 5000);
      } catch (err) {
        // Another port may do: keep the cluster for the next attempt.
        await stopTree(spawned.proc, 'SIGQUIT');
        throw err;
      }
      // SIGQUIT is postgres's immediate shutdown: the postmaster tells every backend to quit.
      return makeServer('postgres', port, spawned, 'SIGQUIT', dir);
    });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/** Kinds of Node server in servers/node-server.js. */
export type NodeServerKind = 'http' | 'line' | 'backlog' | 'rows' | 'ws' | 'sink' | 'h2' | 'silent';

/** A Node server from servers/node-server.js: it also says what it received, per run tag. */
export interface NodeServer extends Server {
  /** How many "got <tag> ..." lines it printed for `tag` whose rest starts with `what`. */
  seen(tag: string, what?: string): number;
  /** Resolves once `seen(tag, what)` reaches `count`; resolves false after `withinMs`. */
  waitSeen(tag: string, count: number, withinMs: number, what?: string): Promise<boolean>;
}

/** Thrown when a Node server was asked for a fixed port that is taken. */
export class PortBusyError extends Error {
  constructor(readonly port: number) {
    super(`port ${port} is busy on this machine`);
  }
}

/**
 * One of the Node servers in servers/node-server.js, in its own process, on the port it picked
 * (or on `port`, rejecting with PortBusyError when that is taken). `timeoutMs` is the suite's T,
 * from which the servers pace their answers.
 */
export async function startNodeServer(kind: NodeServerKind, options: { timeoutMs?: number; port?: number } = {}): Promise<NodeServer> {
  const spawned = spawnTracked(process.execPath, [NODE_SERVER, kind, String(options.timeoutMs ?? 1000), String(options.port ?? 0)], {
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  const got: string[] = [];
  const waiters = new Set<() => void>();
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`node ${kind} server did not start: ${spawned.output()}`)), 10000);
    spawned.onLine((line) => {
      const match = /^listening (\d+)$/.exec(line);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      } else if (/^busy \d+$/.test(line)) {
        clearTimeout(timer);
        reject(new PortBusyError(options.port ?? 0));
      } else if (line.startsWith('got ')) {
        got.push(line.slice(4));
        for (const w of waiters) w();
      }
    });
    void spawned.finished.then(() => {
      clearTimeout(timer);
      reject(new Error(`node ${kind} server exited: ${spawned.output()}`));
    });
  });
  const seen = (tag: string, what = '') => got.filter((l) => l.startsWith(`${tag} ${what}`)).length;
  return {
    ...makeServer(`node ${kind}`, port, spawned, 'SIGTERM'),
    seen,
    waitSeen: (tag, count, withinMs, what) =>
      new Promise<boolean>((resolve) => {
        const check = () => {
          if (seen(tag, what) < count) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(true);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          resolve(false);
        }, withinMs);
        waiters.add(check);
        check();
      }),
  };
}

/** Whether nothing listens on `port` on 127.0.0.1 right now (and this process may bind it). */
export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, HOST, () => probe.close(() => resolve(true)));
  });
}

/** Debian's mosquitto (in /usr/sbin, which a non-root PATH may lack), or the override. */
function sbin(name: string, override: string | undefined): string {
  if (override) return override;
  const inSbin = join('/usr/sbin', name);
  return existsSync(inSbin) ? inSbin : name;
}

/**
 * mosquitto on a free loopback port (not 1883: the shim must know MQTT by its CONNECT packet,
 * not by the port table), anonymous, no persistence, its config in a temporary directory.
 */
export function startMosquitto(): Promise<Server> {
  const bin = sbin('mosquitto', process.env.DRIVER_SUITE_MOSQUITTO);
  return onFreePort(async (port) => {
    const dir = mkdtempSync(join(tmpdir(), 'timeoutsocket-mosquitto-'));
    rememberDir(dir);
    const conf = join(dir, 'mosquitto.conf');
    // Run as root, mosquitto switches to its own account unless told to stay.
    const user = process.getuid?.() === 0 ? 'user root\n' : '';
    writeFileSync(conf, `listener ${port} ${HOST}\nallow_anonymous true\npersistence false\nlog_dest stdout\n${user}`);
    const spawned = spawnTracked(bin, ['-c', conf]);
    const server = makeServer('mosquitto', port, spawned, 'SIGTERM', dir);
    try {
      await waitForPort(port, 5000);
      if (!spawned.proc.alive) throw new Error(`mosquitto exited: ${spawned.output()}`);
      return server;
    } catch (err) {
      await server.stop();
      throw err;
    }
  });
}

/** A MariaDB server the suite started. */
export interface MariaDbServer extends Server {
  /** The data directory's unix socket. */
  readonly socketPath: string;
}

/**
 * mariadbd with a fresh data directory (mariadb-install-db per call) in a temporary directory,
 * on 127.0.0.1 only, `--skip-grant-tables` (any user, no password: nothing here is secret), its
 * unix socket in that directory. On `port` if given (3306, say), else on a free one.
 */
export async function startMariaDb(port?: number): Promise<MariaDbServer> {
  const bin = sbin('mariadbd', process.env.DRIVER_SUITE_MARIADBD);
  const dir = mkdtempSync(join(tmpdir(), 'timeoutsocket-mariadb-'));
  rememberDir(dir);
  const data = join(dir, 'data');
  const user = process.getuid?.() === 0 ? ['--user=root'] : [];
  const install = spawnTracked(process.env.DRIVER_SUITE_MARIADB_INSTALL_DB ?? 'mariadb-install-db', [
    '--no-defaults', `--datadir=${data}`, ...user, '--auth-root-authentication-method=normal', '--skip-test-db', '--skip-name-resolve',
  ], { cwd: dir });
  const code = await install.finished;
  if (code !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`mariadb-install-db failed (${code}): ${install.output().slice(-2000)}`);
  }
  const socketPath = join(dir, 'mysqld.sock');
  const launch = async (p: number): Promise<MariaDbServer> => {
    const spawned = spawnTracked(bin, [
      '--no-defaults', `--datadir=${data}`, ...user, `--bind-address=${HOST}`, `--port=${p}`, `--socket=${socketPath}`,
      `--pid-file=${join(dir, 'mysqld.pid')}`, '--skip-grant-tables', '--skip-name-resolve', '--skip-log-bin',
      '--innodb-buffer-pool-size=16M', '--performance-schema=off',
    ], { cwd: dir });
    try {
      // With no --log-error it logs to stderr; "ready for connections" comes after the port is
      // bound and everything that can still make it exit (InnoDB, the unix socket) is done.
      await waitForOutput(spawned, /ready for connections/, 30000, `mariadbd on ${p}`);
      await waitForPort(p, 5000);
    } catch (err) {
      await stopTree(spawned.proc, 'SIGKILL');
      throw new Error(`mariadbd did not start on ${p}: ${(err as Error).message}`);
    }
    // SIGKILL: a frozen, throwaway server has nothing to flush.
    return { ...makeServer('mariadbd', p, spawned, 'SIGKILL', dir), socketPath };
  };
  try {
    return port === undefined ? await onFreePort(launch) : await launch(port);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
