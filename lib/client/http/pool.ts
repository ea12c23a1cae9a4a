// Connections kept across calls. Each pooled item is an agent with one keep-alive socket: an exchange leases one for
// every hop, so that all the legs of its authentication, and the channel bindings made for them, use one connection
// (as the private agent of each call did before), and returns it when the answer's body is done. Concurrent
// exchanges to one origin lease separate agents, so separate connections.
//
// A connection may carry authentication state at the server: IIS (and mod_auth_gssapi with GssapiConnectionBound,
// Squid and other proxies) treat later requests on an authenticated connection as that client's. So a connection is
// only reused by requests that would authenticate exactly as the one that opened it: the pool is keyed by the
// credential (the handle; the default one by package and KRB5CCNAME, as default-credential.ts shares it), the SPN,
// every option that changes the token (mutual, delegate, contextReq, channel bindings), the proxy and its SPN, and
// the connection options. A connection whose exchange failed is closed, never pooled.
//
// Idle sockets are unref'd by node:http's agent (they never keep the process alive) and closed after the server's
// Keep-Alive timeout less a second, or after IDLE_MS when the server announces none.
import { createHash } from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';
import type { Socket } from 'node:net';
import type { CredentialsHandle } from '../../facade/api.js';
import type { NegotiateHttpOptions } from './options.js';

/** How long an idle connection is kept when the server does not say (node:http reads `Keep-Alive: timeout=N`). */
export const IDLE_MS = 4_000;
/** Idle connections kept per key; more are closed when their exchange ends. */
export const MAX_IDLE = 16;

const ids = new WeakMap<object, number>();
let nextId = 1;

/** A stable number per object (a credential handle, a lookup function, a CA buffer): keys never hold the object. */
function idOf(o: object): number {
  let id = ids.get(o);
  if (id === undefined) ids.set(o, (id = nextId++));
  return id;
}

function credentialPart(credential: CredentialsHandle | undefined): string {
  return credential ? `h${idOf(credential)}` : `default:Negotiate:${process.env.KRB5CCNAME ?? ''}`;
}

/** Options whose strings are secrets or long (keys, certificates): hashed, never kept in a key as they are. */
const HASHED = new Set(['key', 'passphrase', 'pfx', 'cert', 'ca', 'crl']);

/**
 * The connection options as a key: primitives by value, objects and functions by identity; no secret (a private
 * key, a passphrase) kept in the key itself, only its hash. Walked on every call, never cached per options object:
 * a caller may change a property of the object it passes again (`rejectUnauthorized`, `servername`), and a
 * connection made under the old value must not serve a call made under the new one.
 */
function connectPart(connect: NegotiateHttpOptions['connect']): string {
  if (!connect) return '';
  let part = '';
  for (const k of Object.keys(connect).sort()) {
    const v = (connect as Record<string, unknown>)[k];
    if (v === undefined) continue;
    const text = v !== null && (typeof v === 'object' || typeof v === 'function') ? `#${idOf(v)}`
      : HASHED.has(k) && typeof v === 'string' ? createHash('sha256').update(v).digest('base64') : JSON.stringify(v);
    part += `${k}=${text};`;
  }
  return part;
}

/** Everything that decides which connections an exchange may share (see the header). */
export function poolKey(target: URL, spn: string, o: NegotiateHttpOptions, tls: boolean): string {
  return [
    `${target.protocol}//${target.host}`,
    spn,
    credentialPart(o.credential),
    o.mutual ?? 'required',
    o.delegate ?? 'none',
    o.contextReq ?? 0,
    tls && (o.channelBindings ?? true) ? 'cb' : '',
    o.proxy === undefined ? '' : String(o.proxy),
    o.proxySpn ?? '',
    connectPart(o.connect),
  ].join('\n');
}

/** The listener that takes an idle agent out of the pool when its socket closes; removed when it is leased again. */
const onClose = new WeakMap<http.Agent, { socket: Socket; listener: () => void }>();

interface Entry {
  idle: http.Agent[];
  /** The client principal last authenticated under this key: a different one retires the idle connections. */
  principal?: string;
}

const pool = new Map<string, Entry>();

function hasSocket(agent: http.Agent): boolean {
  for (const list of Object.values(agent.freeSockets)) if (list?.length) return true;
  for (const list of Object.values(agent.sockets)) if (list?.length) return true;
  return false;
}

/**
 * Agents whose connection carried a token of ours (the origin's or the proxy's). A server that keeps authentication
 * per connection takes any later request on it for the client that token named, token or not; and the default
 * cache (or a handle's ccache) may name another client by now (a kinit as another user). So such a connection only
 * serves a request that sends its own token with its first request, which the server then authenticates anew.
 */
const carriedToken = new WeakSet<http.Agent>();

/** A token of ours is going out on `agent`'s connection (see carriedToken). */
export function tokenSentOn(agent: http.Agent): void {
  carriedToken.add(agent);
}

/** Whether a token of ours went out on `agent`'s connection. */
export function carriedTokenOn(agent: http.Agent): boolean {
  return carriedToken.has(agent);
}

/**
 * An agent with one keep-alive socket for `key` (an idle one, or a new one that connects on first use).
 * `tokenAtOnce`: the request sends its token with its first request; otherwise a connection that carried a token is
 * not taken (see carriedToken).
 */
export function lease(key: string, tls: boolean, connect: NegotiateHttpOptions['connect'], tokenAtOnce: boolean): http.Agent {
  const entry = pool.get(key);
  for (let i = (entry?.idle.length ?? 0) - 1; i >= 0; i--) {
    const agent = entry!.idle[i];
    if (!tokenAtOnce && carriedToken.has(agent)) continue;
    entry!.idle.splice(i, 1);
    const watch = onClose.get(agent);
    if (watch) watch.socket.off('close', watch.listener);
    onClose.delete(agent);
    if (hasSocket(agent)) return agent;
    agent.destroy();
  }
  const options = { ...connect, keepAlive: true, maxSockets: 1, timeout: IDLE_MS };
  return tls ? new https.Agent(options) : new http.Agent(options);
}

/**
 * The exchange is done with `agent`. `reusable`: it ended well (its connection carries nothing half done); then
 * `principal` is the client it authenticated as, if it did. An agent whose socket is not free (closed, closing), or
 * that is over the idle limit, is dropped.
 *
 * When `principal` is not the one of the key's earlier exchanges (a kinit as another user into the same default
 * cache), the idle connections authenticated as the earlier one are closed, so that a server keeping authentication
 * per connection cannot take this credential's later requests for the earlier user's.
 */
export function release(key: string, agent: http.Agent, reusable: boolean, principal?: string): void {
  // Only a socket node:http has put back as free is kept (not one it is closing: `Connection: close`, an error).
  const socket = Object.values(agent.freeSockets)[0]?.[0];
  if (!reusable || !socket) {
    agent.destroy();
    return;
  }
  let entry = pool.get(key);
  if (!entry) pool.set(key, (entry = { idle: [], principal }));
  if (principal !== undefined && entry.principal !== principal) {
    if (entry.principal !== undefined) for (const old of entry.idle.splice(0)) old.destroy();
    entry.principal = principal;
  }
  if (entry.idle.length >= MAX_IDLE) {
    agent.destroy();
    return;
  }
  entry.idle.push(agent);
  // The socket closing while idle (the server's or our timeout) takes the agent, and the key when it was the last.
  const owner = entry;
  {
    const listener = () => {
      onClose.delete(agent);
      const at = owner.idle.indexOf(agent);
      if (at >= 0) owner.idle.splice(at, 1);
      if (owner.idle.length === 0 && pool.get(key) === owner) pool.delete(key);
    };
    socket.once('close', listener);
    onClose.set(agent, { socket, listener });
  }
}

/** Closes every idle connection (and forgets every key): for tests, and for a caller that wants a clean slate. */
export function closeIdleConnections(): void {
  for (const entry of pool.values()) for (const agent of entry.idle.splice(0)) agent.destroy();
  pool.clear();
}

/** Idle connections per key: for tests and diagnostics. */
export function idleConnections(): number {
  let n = 0;
  for (const entry of pool.values()) n += entry.idle.length;
  return n;
}
