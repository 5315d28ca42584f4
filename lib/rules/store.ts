/**
 * Where the rules in force live: a record on `net.Socket` under a registry symbol, like the
 * shared runtime record (lib/runtime-record.ts), so every copy of the package in the process
 * sees the same rules. A file of its own so that the register preload can mark the
 * environment read (`TIMEOUTSOCKET_RULES` unset, lib/preload-env.ts) without loading the rules
 * (lib/rules/index.ts).
 */
import { Socket } from 'node:net';
import type { CompiledRule } from './rule';
import type { SocketTimeoutRule } from './types';

/** The rules in force, shared by every copy of the package. */
export interface RuleSet {
  readonly list: readonly CompiledRule[];
  /** The public view, frozen once. */
  readonly rules: readonly SocketTimeoutRule[];
  /** Whether some rule names an IP literal or CIDR block, so an address can decide. */
  readonly byAddress: boolean;
}

/** The shared record: the rules in force, and whether `TIMEOUTSOCKET_RULES` was read (only the first load reads it). */
export interface Store {
  set: RuleSet | undefined;
  envApplied: boolean;
}

const STORE_KEY = Symbol.for('timeoutsocket.rules.v1');

/**
 * This copy's handle on the shared record, found once: the record is never replaced (a
 * non-writable property of `net.Socket`), and every connect asks for it.
 */
let sharedStore: Store | undefined;

/** The shared rules record, created on first use. */
export function store(): Store {
  if (sharedStore !== undefined) return sharedStore;
  const host = Socket as unknown as { [STORE_KEY]?: Store };
  let shared = host[STORE_KEY];
  if (shared === undefined) {
    shared = { set: undefined, envApplied: false };
    Object.defineProperty(host, STORE_KEY, { value: shared, enumerable: false });
  }
  sharedStore = shared;
  return shared;
}
