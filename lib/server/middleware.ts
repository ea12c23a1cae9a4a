// RFC 4559 on the server: `negotiate(options)` is a node:http-level handler, `(req, res, next)` as Express 5 and
// Connect call it. The decision itself (`authenticator.decide`) writes nothing, so that the Fastify and Koa adapters
// answer through their own reply objects. docs/http-server.md describes the protocol, the statuses and the policy.
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { acquireCredentialsHandle, freeCredentialsHandle, type CredentialsHandle } from '../facade/api.js';
import { credentialState } from '../facade/handles.js';
import { NegotiateServer } from './negotiate-server.js';
import { queryContextAttributes } from '../facade/query.js';
import { tlsServerEndPoint } from '../client/http/channel-bindings.js';
import * as AF from '../vocabulary/accept-flags.js';
import { SECPKG_ATTR_PACKAGE_INFO } from '../vocabulary/attributes.js';
import * as S from '../vocabulary/status.js';
import { isInitialToken, parseAuthorization } from './authorization.js';
import { connectionState, dropPending, existingState } from './connection-state.js';
import type { NegotiateErrorEvent, NegotiateIdentity } from './types.js';

export type ChannelBindingsMode = 'required' | 'when-supported' | 'never';

export interface NegotiateMiddlewareOptions {
  /** An inbound credential (acquireCredentialsHandle({ credentialUse: SECPKG_CRED_INBOUND, keytab })); stays yours. */
  credential?: CredentialsHandle;
  /** Or the service's keytab (and optionally one principal of it): the handler acquires and owns the handle. */
  keytab?: string;
  principal?: string;
  /** Only these client principals (exact, `alice@EXAMPLE.COM`), or a predicate. Others get 403 after authenticating. */
  allowedPrincipals?: Iterable<string> | ((principal: string) => boolean);
  /** Only clients of these realms (exact, `EXAMPLE.COM`). Others get 403 after authenticating. */
  allowedRealms?: Iterable<string>;
  /** NTLM: `false` (the default, and the only value this version's acceptor supports: it takes Kerberos only). */
  ntlm?: false;
  /**
   * Channel bindings over https (tls-server-end-point of the server's own certificate, RFC 5929): `when-supported`
   * (default: checked when the client sent them), `required` (a client that did not bind is refused; over plain http
   * every client is), `never`.
   */
  channelBindings?: ChannelBindingsMode;
  /** Keep the credential the client delegated, as `req.negotiate.delegatedCredential` (default false). */
  delegation?: boolean;
  /** `optional` (default: browsers and curl differ in asking) or `required`: refuse a client that did not ask for mutual authentication. */
  mutual?: 'required' | 'optional';
  /**
   * Authenticate once per connection (keep-alive) rather than per request: later requests on the same connection
   * without Authorization pass as the same principal. Off by default: see docs/http-server.md for its risk.
   */
  perConnection?: boolean;
  /** Called for each refused or failed attempt, with statuses and GSS codes, never token bytes. */
  onError?: (event: NegotiateErrorEvent, req: IncomingMessage) => void;
  /** Called for each authenticated request. */
  onAuthenticated?: (identity: NegotiateIdentity, req: IncomingMessage) => void;
}

/** What to do with a request: let it through (with headers to add), or answer it now. */
export type NegotiateDecision =
  | { action: 'next'; identity: NegotiateIdentity; headers: Record<string, string> }
  | { action: 'reply'; status: number; headers: Record<string, string>; body: string };

export type NegotiateRequest = IncomingMessage & { negotiate?: NegotiateIdentity };

export interface NegotiateHandler {
  (req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void): Promise<void>;
  /** The decision alone, writing nothing (adapters use it). `res` is only watched for its close. */
  decide(req: IncomingMessage, res: ServerResponse): Promise<NegotiateDecision>;
  /** Frees the credential the handler acquired from `keytab` (not one you passed). */
  close(): void;
}

const OPTION_KEYS = new Set([
  'credential', 'keytab', 'principal', 'allowedPrincipals', 'allowedRealms', 'ntlm', 'channelBindings', 'delegation', 'mutual',
  'perConnection', 'onError', 'onAuthenticated',
]);

const CHALLENGE = { 'WWW-Authenticate': 'Negotiate' };
/**
 * Statuses that may be the server's own trouble (no keytab, no key for its principal, no GSS library): a 500 when the
 * credential itself is broken (credentialBroken), a 401 otherwise (a hostile token can produce any status, even
 * INTERNAL_ERROR).
 */
const MAYBE_SERVER_SIDE = new Set([S.SEC_E_NO_CREDENTIALS, S.SEC_E_INVALID_HANDLE, S.SEC_E_SECPKG_NOT_FOUND, S.SEC_E_UNSUPPORTED_FUNCTION]);

/**
 * Our own answers (401, 400, 403, 500) carry their length: without it an HTTP/1.0 keep-alive client's connection is
 * closed after the 401 (Node keeps such a connection only for a response of known length), and the exchange's next
 * leg, whose state lives on that connection, could never arrive on it.
 */
function reply(status: number, body: string, headers: Record<string, string> = {}): Extract<NegotiateDecision, { action: 'reply' }> {
  return { action: 'reply', status, headers: { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': String(Buffer.byteLength(body)), ...headers }, body };
}

const INTERNAL_ERROR = reply(500, 'Internal error.\n');

function checkOptions(options: NegotiateMiddlewareOptions): void {
  if (typeof options !== 'object' || options === null) throw new TypeError('negotiate: options must be an object');
  for (const key of Object.keys(options)) if (!OPTION_KEYS.has(key)) throw new TypeError(`negotiate: unknown option ${key}`);
  if (options.credential === undefined && options.keytab === undefined) throw new TypeError('negotiate: give an inbound credential or a keytab');
  if (options.credential !== undefined && (options.keytab !== undefined || options.principal !== undefined)) {
    throw new TypeError('negotiate: credential and keytab/principal are exclusive');
  }
  if (options.keytab !== undefined && (typeof options.keytab !== 'string' || options.keytab === '')) throw new TypeError('negotiate: keytab must be a path');
  if (options.principal !== undefined && (typeof options.principal !== 'string' || options.principal === '')) throw new TypeError('negotiate: principal must be a string');
  if (options.ntlm !== undefined && options.ntlm !== false) {
    throw new TypeError('negotiate: ntlm must be false: the acceptor takes Kerberos only (NTLM is not accepted in this version)');
  }
  if (options.channelBindings !== undefined && !['required', 'when-supported', 'never'].includes(options.channelBindings)) {
    throw new TypeError('negotiate: channelBindings must be "required", "when-supported" or "never"');
  }
  if (options.mutual !== undefined && options.mutual !== 'required' && options.mutual !== 'optional') throw new TypeError('negotiate: mutual must be "required" or "optional"');
  for (const key of ['delegation', 'perConnection'] as const) {
    if (options[key] !== undefined && typeof options[key] !== 'boolean') throw new TypeError(`negotiate: ${key} must be a boolean`);
  }
  for (const key of ['onError', 'onAuthenticated'] as const) {
    if (options[key] !== undefined && typeof options[key] !== 'function') throw new TypeError(`negotiate: ${key} must be a function`);
  }
  const ap = options.allowedPrincipals;
  if (ap !== undefined && typeof ap !== 'function' && (typeof ap !== 'object' || ap === null || !(Symbol.iterator in ap))) {
    throw new TypeError('negotiate: allowedPrincipals must be an iterable of principals or a function');
  }
  const ar = options.allowedRealms;
  if (ar !== undefined && (typeof ar !== 'object' || ar === null || !(Symbol.iterator in ar))) throw new TypeError('negotiate: allowedRealms must be an iterable of realms');
}

/** The realm of `alice@EXAMPLE.COM` (after the last unescaped `@`). */
export function realmOf(principal: string): string {
  for (let i = principal.length - 1; i >= 0; i--) {
    if (principal[i] === '@' && principal[i - 1] !== '\\') return principal.slice(i + 1);
  }
  return '';
}

/** The server's tls-server-end-point bindings for a TLS socket, cached per certificate. */
const bindingsCache = new Map<string, Buffer | string>();
function serverBindings(socket: TLSSocket): Buffer | string {
  const cert = socket.getCertificate();
  const raw = cert && 'raw' in cert ? (cert.raw as Buffer | undefined) : undefined;
  if (!raw) return 'the TLS socket has no server certificate';
  const key = (cert as { fingerprint256?: string }).fingerprint256 ?? raw.toString('base64');
  let found = bindingsCache.get(key);
  if (found === undefined) {
    try {
      found = tlsServerEndPoint(raw);
    } catch (err) {
      found = err instanceof Error ? err.message : String(err);
    }
    if (bindingsCache.size > 64) bindingsCache.clear();
    bindingsCache.set(key, found);
  }
  return found;
}

/** The exchanges that were given the server's channel bindings. */
const boundServers = new WeakSet<NegotiateServer>();

export function negotiate(options: NegotiateMiddlewareOptions): NegotiateHandler {
  checkOptions(options);
  const bindingsMode = options.channelBindings ?? 'when-supported';
  const mutual = options.mutual ?? 'optional';
  const allowedPrincipals = typeof options.allowedPrincipals === 'function' ? options.allowedPrincipals
    : options.allowedPrincipals ? ((set: Set<string>) => (p: string) => set.has(p))(new Set(options.allowedPrincipals)) : undefined;
  const allowedRealms = options.allowedRealms ? new Set(options.allowedRealms) : undefined;
  const owned = options.credential === undefined;
  let credential: Promise<CredentialsHandle> | undefined = options.credential ? Promise.resolve(options.credential) : undefined;
  let closed = false;
  const credentialOf = (): Promise<CredentialsHandle> =>
    (credential ??= acquireCredentialsHandle({ credentialUse: AF.SECPKG_CRED_INBOUND, keytab: options.keytab, ...(options.principal ? { principal: options.principal } : {}) }));
  /**
   * An acquisition of ours that failed (it threw, or the handle carries the failure its first accept reports: no
   * keytab, no key for the principal) is not kept: the next request acquires again, so a keytab put right later works.
   */
  const forgetFailedCredential = async (): Promise<void> => {
    const held = credential;
    if (!owned || !held) return;
    const cred = await held.catch(() => undefined);
    if (cred && !credentialState(cred)?.failure) return;
    if (credential === held) credential = undefined;
    if (cred) freeCredentialsHandle(cred);
  };

  const report = (req: IncomingMessage, event: Omit<NegotiateErrorEvent, 'remoteAddress' | 'remotePort' | 'method' | 'url'>): void => {
    if (!options.onError) return;
    const full: NegotiateErrorEvent = { ...event, remoteAddress: req.socket?.remoteAddress, remotePort: req.socket?.remotePort, method: req.method, url: req.url };
    try {
      options.onError(full, req);
    } catch {
      // The hook's own failure must not change the answer.
    }
  };

  /**
   * Whether the server's own credential is what failed: a freed handle, or a keytab of ours that cannot be read.
   * (Not queryCredentialsAttributes: Heimdal 7.8 crashes on NAMES of an inbound credential without a principal.)
   */
  const acquisitionFailed = async (): Promise<boolean> => {
    const cred = options.credential ?? (await credential?.catch(() => undefined));
    return !cred || credentialState(cred)?.failure !== undefined;
  };
  const credentialBroken = async (): Promise<boolean> => {
    if (options.credential?.freed) return true;
    // A handle whose acquisition failed (a keytab without the principal's key, ...) fails every client alike.
    if (await acquisitionFailed()) return true;
    if (options.credential) return false;
    const path = options.keytab!.replace(/^(?:WR)?FILE:/, '');
    try {
      await access(path, constants.R_OK);
      return false;
    } catch {
      return true;
    }
  };

  const refusal = async (req: IncomingMessage, err: unknown): Promise<NegotiateDecision> => {
    const sec = err instanceof S.SecurityError ? err : undefined;
    const serverSide = !sec || ((MAYBE_SERVER_SIDE.has(sec.status) || (await acquisitionFailed())) && (await credentialBroken()));
    if (serverSide) await forgetFailedCredential();
    const status = serverSide ? 500 : 401;
    report(req, {
      status,
      reason: serverSide ? 'server' : 'rejected',
      ...(sec ? { statusName: sec.statusName, secStatus: sec.status } : {}),
      ...(sec?.gss ? { major: sec.gss.major, minor: sec.gss.minor, gss: sec.gss } : {}),
      detail: sec ? sec.message : err instanceof Error ? `${err.name}: ${err.message}` : 'the authentication failed',
    });
    return serverSide ? reply(500, 'The server cannot authenticate clients now.\n') : reply(401, 'Authentication failed.\n', CHALLENGE);
  };

  const decide = async (req: IncomingMessage, res: ServerResponse): Promise<NegotiateDecision> => {
    if (closed) return reply(500, 'The server cannot authenticate clients now.\n');
    const socket = req.socket as Socket;
    const auth = parseAuthorization(req.headers.authorization);
    const existing = socket ? existingState(socket) : undefined;

    if (auth.kind === 'none' || auth.kind === 'other') {
      if (existing) dropPending(existing);
      if (options.perConnection && existing?.identity) {
        const identity: NegotiateIdentity = { ...existing.identity, reused: true };
        return { action: 'next', identity, headers: {} };
      }
      return reply(401, 'Negotiate authentication is required.\n', CHALLENGE);
    }
    if (auth.kind === 'malformed') {
      if (existing) {
        dropPending(existing);
        delete existing.identity;
      }
      report(req, { status: 400, reason: 'malformed', detail: auth.why });
      return reply(400, `Bad Authorization header: ${auth.why}.\n`);
    }

    // A Negotiate token. The connection's state is made only when something is kept in it (an exchange that
    // continues, a perConnection identity): a one-leg Kerberos exchange, the usual case, leaves a connection without
    // one (no WeakMap entry, no close listener per connection). A connection that is gone gets none (its close event
    // has fired already).
    let server: NegotiateServer | undefined;
    if (existing) {
      delete existing.identity;
      server = existing.pending;
      delete existing.pending;
    }
    if (server && isInitialToken(auth.token)) {
      // A new exchange on the same connection (Windows re-authenticates this way): the old one ends.
      server.dispose();
      server = undefined;
    }
    if (!server) {
      let bindings: Buffer | undefined;
      if (bindingsMode !== 'never' && socket instanceof TLSSocket) {
        const found = serverBindings(socket);
        if (typeof found === 'string') {
          if (bindingsMode === 'required') {
            report(req, { status: 500, reason: 'server', statusName: 'SEC_E_BAD_BINDINGS', secStatus: S.SEC_E_BAD_BINDINGS, detail: found });
            return reply(500, 'The server cannot bind this connection.\n');
          }
        } else {
          bindings = found;
        }
      }
      let cred: CredentialsHandle;
      try {
        cred = await credentialOf();
      } catch (err) {
        return await refusal(req, err);
      }
      server = new NegotiateServer({
        credential: cred,
        mutual,
        channelBindingsPolicy: bindingsMode,
        ...(bindings ? { channelBindings: bindings } : {}),
        ...(options.delegation ? { contextReq: AF.ASC_REQ_DELEGATE } : {}),
      });
      if (bindings) boundServers.add(server);
    }

    let step;
    try {
      step = await server.step(auth.token);
    } catch (err) {
      server.dispose();
      return await refusal(req, err);
    }
    const headers: Record<string, string> = step.token ? { 'WWW-Authenticate': `Negotiate ${step.token.toString('base64')}` } : {};
    if (!step.done) {
      if (!step.token) {
        server.dispose();
        return await refusal(req, new S.SecurityError(S.SEC_E_INTERNAL_ERROR, 'the acceptor wants another leg but gave no token'));
      }
      if (socket && !socket.destroyed) {
        // A pipelined request on this connection may have left one already (nobody holds it: a step takes it first).
        const state = connectionState(socket);
        dropPending(state);
        state.pending = server;
      } else server.dispose();
      return reply(401, 'Negotiate continues.\n', headers);
    }

    const principal = step.client ?? server.client ?? '';
    let identity: NegotiateIdentity;
    let delegated: CredentialsHandle | undefined;
    try {
      const pkg = server.context ? queryContextAttributes(server.context, SECPKG_ATTR_PACKAGE_INFO).value?.name ?? 'Kerberos' : 'Kerberos';
      identity = {
        principal,
        realm: realmOf(principal),
        mutual: (server.contextAttr & AF.ASC_RET_MUTUAL_AUTH) !== 0,
        channelBound: bindingsMode === 'required' && boundServers.has(server),
        package: pkg,
      };
      delegated = options.delegation ? server.delegatedCredential() : undefined;
    } finally {
      // Whatever happened above, the context goes now (the handler answers a throw with 500 or next(err)).
      server.dispose();
    }

    const realmOk = !allowedRealms || allowedRealms.has(identity.realm);
    let principalOk = true;
    if (allowedPrincipals) {
      try {
        principalOk = allowedPrincipals(principal) === true;
      } catch {
        principalOk = false;
      }
    }
    if (!realmOk || !principalOk) {
      if (delegated) freeCredentialsHandle(delegated);
      report(req, { status: 403, reason: 'denied', principal, detail: realmOk ? `${principal} is not an allowed principal` : `the realm ${identity.realm} is not allowed` });
      return reply(403, 'Forbidden.\n', headers);
    }
    if (delegated) {
      if (res.destroyed || socket?.destroyed) {
        // The client hung up during the last leg: 'close' has been emitted already and would never free it.
        freeCredentialsHandle(delegated);
      } else {
        identity.delegatedCredential = delegated;
        res.once('close', () => freeCredentialsHandle(delegated));
      }
    }
    if (options.perConnection && socket && !socket.destroyed) {
      connectionState(socket).identity = { principal: identity.principal, realm: identity.realm, mutual: identity.mutual, channelBound: identity.channelBound, package: identity.package };
    }
    return { action: 'next', identity, headers };
  };

  const handler = (async (req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void): Promise<void> => {
    let decision: NegotiateDecision;
    try {
      decision = await decide(req, res);
    } catch (err) {
      if (next) next(err);
      else if (!res.headersSent) res.writeHead(500, INTERNAL_ERROR.headers).end(INTERNAL_ERROR.body);
      return;
    }
    if (decision.action === 'reply') {
      if (!res.headersSent) res.writeHead(decision.status, decision.headers).end(decision.body);
      return;
    }
    for (const [name, value] of Object.entries(decision.headers)) res.setHeader(name, value);
    authenticated(req, decision.identity);
    try {
      next?.();
    } catch (err) {
      // A route that throws synchronously under plain node:http: a 500, not an unhandled rejection.
      if (!res.headersSent) res.writeHead(500, INTERNAL_ERROR.headers).end(INTERNAL_ERROR.body);
      report(req, { status: 500, reason: 'server', detail: `the handler after negotiate() threw: ${err instanceof Error ? err.name : typeof err}` });
    }
  }) as NegotiateHandler;
  const authenticated = (req: IncomingMessage, identity: NegotiateIdentity): void => {
    (req as NegotiateRequest).negotiate = identity;
    try {
      options.onAuthenticated?.(identity, req);
    } catch {
      // The hook's own failure must not change the answer.
    }
  };
  handler.decide = async (req, res) => {
    const decision = await decide(req, res);
    if (decision.action === 'next') authenticated(req, decision.identity);
    return decision;
  };
  handler.close = () => {
    closed = true;
    if (owned && credential) void credential.then((c) => freeCredentialsHandle(c), () => undefined);
  };
  return handler;
}
