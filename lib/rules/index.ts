/**
 * Rules per destination: the rules in force, and which one a socket got.
 *
 * A socket is matched once per `connect()`, never per write: the patch calls
 * {@link matchOnConnect} with the host and port `connect()` was given, and the chosen rule is
 * kept on the socket under {@link RULE}, where the engine's `effectiveTimeouts()` reads it.
 * When an IP or CIDR rule could still match by the address a name resolves to, the choice is
 * made again once connected, from `remoteAddress`, before `'connect'` reaches the application.
 *
 * The rules in force live on `net.Socket` under a registry symbol (lib/rules/store.ts), like the shared runtime
 * record (lib/runtime-record.ts), so every copy of the package in the process sees the same rules.
 *
 * The parser (parse.ts, with destination.ts, address.ts, settings.ts and rule.ts) loads with
 * the first rules to read, not with this file: the patch needs this file (with the first socket, or at start-up when a variable is set), and with
 * no rules in force (`TIMEOUTSOCKET_RULES` unset, no `setSocketTimeoutRules()` call) a connect
 * costs one property read here and needs none of them.
 */
import type * as net from 'node:net';
import { engageHotPath } from '../runtime';
import { store, type RuleSet } from './store';
import type * as Destinations from './destination';
import type { Target } from './destination';
import type * as Parser from './parse';
import type { CompiledRule } from './rule';
import type { SocketTimeoutRule, SocketTimeoutRules } from './types';

export type { CompiledRule } from './rule';
export type { RuleSettings, SocketTimeoutRule, SocketTimeoutRuleInput, SocketTimeoutRules } from './types';

let parser: typeof Parser | undefined;
let destinations: typeof Destinations | undefined;

/** parse.ts's parseRules, loaded on first use. */
function parseRules(rules: SocketTimeoutRules, name: string): CompiledRule[] {
  if (parser === undefined) parser = require('./parse') as typeof Parser;
  // The matcher with it: rules are parsed while the application starts, and a connect made
  // later (after a module sandbox such as Jest's was torn down) must not have to load it.
  if (destinations === undefined) destinations = require('./destination') as typeof Destinations;
  return parser.parseRules(rules, name);
}

/** destination.ts's targetOf, loaded on first use (once per process: connects with rules in force call it). */
function targetOf(host: string, port: number | undefined, address: string | undefined): Target {
  if (destinations === undefined) destinations = require('./destination') as typeof Destinations;
  return destinations.targetOf(host, port, address);
}

/** The environment variable the rules are read from at start-up. */
export const RULES_ENV = 'TIMEOUTSOCKET_RULES';

/** Where a socket keeps the rule it matched (a registry symbol, so every copy of the package finds it). */
export const RULE = Symbol.for('timeoutsocket.rule.v1');

/** Where a socket keeps what it connected to while its rule waits for the address. */
const PENDING = Symbol.for('timeoutsocket.rule-pending.v1');

/** A socket as the rules see it. */
export interface RuledSocket extends net.Socket {
  [RULE]?: CompiledRule;
  [PENDING]?: { host: string; port: number | undefined };
}

function toSet(list: CompiledRule[]): RuleSet | undefined {
  if (list.length === 0) return undefined;
  return Object.freeze({
    list: Object.freeze(list),
    rules: Object.freeze(list.map((compiled) => compiled.rule)),
    byAddress: list.some((compiled) => compiled.destination.host.kind === 'ip'),
  });
}

/**
 * Reads and checks rules without putting them in force: what `timeoutsocket run --rules`
 * validates before it starts anything. Throws as {@link setSocketTimeoutRules} does.
 * @param name - what error messages call the input.
 */
export function checkRules(rules: SocketTimeoutRules, name = 'rules'): readonly SocketTimeoutRule[] {
  return parseRules(rules, name).map((compiled) => compiled.rule);
}

/**
 * Puts rules per destination in force for connections made from now on (sockets already
 * connected keep the rule they matched). The first rule that matches a connection wins; a phase
 * it does not name keeps the process default; a socket's own `setSocketTimeout()` overrides both.
 *
 * Takes the text of `TIMEOUTSOCKET_RULES`, an array of rule objects (durations in ms, `null`
 * for off), or `null` / `''` / `[]` for none. Validates everything first: a bad rule throws a
 * `TypeError` (a malformed destination, an unknown or repeated setting, a rule with no
 * setting) or a `RangeError` (a bad duration, port, prefix length or protocol) that quotes the
 * rule and names its bad part, and the rules in force stay as they were.
 *
 * @example
 * ```ts
 * setSocketTimeoutRules('db.internal:5432 read=60s; *:6379 protocol=redis; 10.0.0.0/8:9000 read=off protocol=stream');
 * setSocketTimeoutRules([{ destination: '*.example.com', connect: 1000 }]);
 * setSocketTimeoutRules(null); // no rules
 * ```
 */
export function setSocketTimeoutRules(rules: SocketTimeoutRules): void {
  const set = toSet(parseRules(rules, 'rules'));
  if (set !== undefined) engageHotPath(); // any rule: the per-write wrappers go on (lib/runtime-record.ts)
  store().set = set;
}

/**
 * The rules in force, in order, as frozen objects: `destination`, the settings the rule names
 * (durations in ms, `null` for off, `protocol`), its `text` and its `index` (from 1).
 * The array is a frozen copy; `[]` when there are none.
 */
export function getSocketTimeoutRules(): readonly SocketTimeoutRule[] {
  const set = store().set;
  return Object.freeze(set === undefined ? [] : [...set.rules]);
}

/**
 * Reads `TIMEOUTSOCKET_RULES` into the rules in force, once per process (a second copy of the
 * package must not undo what the application set since). An empty variable counts as unset.
 * Throws like {@link setSocketTimeoutRules}, the message starting with the variable's name.
 */
export function applyRulesEnvironment(env: NodeJS.ProcessEnv = process.env): void {
  const raw = env[RULES_ENV];
  const set = raw === undefined ? undefined : toSet(parseRules(raw, RULES_ENV));
  const shared = store();
  if (shared.envApplied) return;
  shared.envApplied = true;
  if (set !== undefined) {
    engageHotPath();
    shared.set = set;
  }
}

/**
 * The first rule that matches, and whether the choice must wait for the address connected to.
 * `address` is that address once known.
 */
function firstMatch(list: readonly CompiledRule[], target: Target): { rule: CompiledRule | undefined; waits: boolean } {
  for (const compiled of list) {
    const match = compiled.matches(target);
    if (match === 'yes') return { rule: compiled, waits: false };
    if (match === 'needs-address') return { rule: firstYes(list, target, compiled), waits: true };
  }
  return { rule: undefined, waits: false };
}

/** The first rule after `from` that matches outright: what applies until the address is known. */
function firstYes(list: readonly CompiledRule[], target: Target, from: CompiledRule): CompiledRule | undefined {
  for (let i = list.indexOf(from) + 1; i < list.length; i++) if (list[i].matches(target) === 'yes') return list[i];
  return undefined;
}

/**
 * Chooses a socket's rule; called by the patched `connect()` before the connect deadline is
 * armed. With no rules in force this is one property read and a comparison.
 *
 * When the host is a name and an IP or CIDR rule comes before the first rule that matches the
 * name, the address decides: until connected the socket uses the first rule that matches
 * outright (so the connect deadline is that rule's, or the default; its `protocol=` is not
 * applied), and at `'connect'`, before the application's own listeners run, the choice is made
 * again with `remoteAddress` and the engine applies the final rule's protocol.
 */
export function matchOnConnect(socket: RuledSocket, host: string | undefined, port: number | undefined): void {
  // A socket connected again (after a failed attempt) must not keep the last attempt's wait:
  // its stale 'connect' listener would overwrite the rule chosen now.
  if (socket[PENDING] !== undefined) {
    socket[PENDING] = undefined;
    socket.removeListener('connect', settleOnConnect);
  }
  const set = store().set;
  if (set === undefined) {
    if (socket[RULE] !== undefined) socket[RULE] = undefined; // a socket reused after the rules were cleared
    return;
  }
  const target = targetOf(host ?? 'localhost', port, undefined);
  const { rule, waits } = firstMatch(set.list, target);
  socket[RULE] = rule;
  if (!waits) return;
  socket[PENDING] = { host: host ?? 'localhost', port };
  // A module-level function, no closure: it finds the socket as `this`.
  socket.prependOnceListener('connect', settleOnConnect);
}

function settleOnConnect(this: RuledSocket): void {
  settle(this);
}

/**
 * Chooses again with the address connected to, once; a no-op unless the choice was waiting for
 * it. Then tells the engine (see {@link onRuleSettled}), which applies the final rule's protocol.
 */
function settle(socket: RuledSocket): void {
  const pending = socket[PENDING];
  if (pending === undefined) return;
  socket[PENDING] = undefined;
  socket.removeListener('connect', settleOnConnect); // settled early (by ruleFor): the listener has nothing left to do
  const set = store().set;
  if (set !== undefined) socket[RULE] = firstMatch(set.list, targetOf(pending.host, pending.port, socket.remoteAddress)).rule;
  settled?.(socket);
}

/** What the engine runs once a waiting choice is made (set by lib/engine.ts, which imports this module). */
let settled: ((socket: net.Socket) => void) | undefined;

/**
 * Registers what runs when a rule choice that waited for the address is made, before
 * `'connect'` reaches the application: the engine applies the final rule's `protocol=` there
 * (the rule used while connecting forces none). A hook, not an import: the engine imports
 * this module.
 */
export function onRuleSettled(hook: (socket: net.Socket) => void): void {
  settled = hook;
}

/**
 * Whether the socket's rule is still the stand-in used while connecting (an IP or CIDR rule may
 * yet match the address): its deadlines apply until then, its protocol does not.
 */
export function ruleWaitsForAddress(socket: net.Socket): boolean {
  return (socket as RuledSocket)[PENDING] !== undefined;
}

/**
 * The rule that applies to a socket: the first that matched its destination, or `undefined`.
 * Its `protocol` is what the protocol engine starts from; `text` and `index` name it in logs.
 * Final as soon as the TCP connection is up: a choice still waiting for the address is made
 * here if the socket is already connected (Node's afterConnect runs `_unrefTimer()` before it
 * emits `'connect'`, so engine code running there sees the final rule too).
 *
 * @example
 * ```ts
 * const rule = ruleFor(socket);
 * if (rule?.protocol === 'stream') { … }
 * ```
 */
export function ruleFor(socket: net.Socket): SocketTimeoutRule | undefined {
  const ruled = socket as RuledSocket;
  if (ruled[PENDING] !== undefined && !ruled.connecting && ruled.remoteAddress !== undefined) settle(ruled);
  return ruled[RULE]?.rule;
}

/** What {@link findRule} answers. */
export interface RuleChoice {
  /** The rule that applies, or `undefined` for none. */
  readonly rule: SocketTimeoutRule | undefined;
  /** The same rule as the engine holds it, for its deadlines. */
  readonly compiled: CompiledRule | undefined;
  /** True when an IP or CIDR rule could still match the address `host` resolves to, and no `address` was given. */
  readonly dependsOnAddress: boolean;
}

/**
 * The rule a connection to `host:port` would get, without a socket: for `probe --explain`.
 * `address` is the address connected to, when known; `rules` defaults to the rules in force.
 */
export function findRule(host: string, port: number | undefined, address?: string, rules?: SocketTimeoutRules): RuleChoice {
  const list = rules === undefined ? (store().set?.list ?? []) : parseRules(rules, 'rules');
  const { rule, waits } = firstMatch(list, targetOf(host, port, address));
  return { rule: rule?.rule, compiled: rule, dependsOnAddress: waits };
}
