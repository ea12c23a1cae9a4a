// RFC 4559 over node:http / node:https: send, and on `401 WWW-Authenticate: Negotiate` (or `407
// Proxy-Authenticate: Negotiate` from an explicit proxy) run the context loop on the same connection, then verify
// the server's final token before anything of its answer is handed over. One connection per origin (a private
// keep-alive agent with one socket) so that every leg of an exchange, and the channel bindings computed for it,
// belong to the connection actually used.
import { once } from 'node:events';
import * as http from 'node:http';
import * as https from 'node:https';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import type { Socket } from 'node:net';
import { inspect, type InspectOptionsStylized } from 'node:util';
import type { CredentialsHandle } from '../api.js';
import { NegotiateClient } from '../negotiate.js';
import { queryContextAttributes } from '../query.js';
import { SECPKG_ATTR_NAMES } from '../sspi/attributes.js';
import { ISC_RET_MUTUAL_AUTH } from '../sspi/flags.js';
import { SecurityError } from '../sspi/status.js';
import { DEFAULT_MAX_REPLAY_BYTES, bufferBody, type FetchHeaders, type RequestBody } from './body.js';
import { tlsServerEndPoint } from './channel-bindings.js';
import { findNegotiate } from './challenge.js';
import { HttpNegotiateError } from './errors.js';
import { checkCString } from '../cstring.js';
import { spnForUrl, type SpnOptions } from './spn.js';

export type MutualPolicy = 'required' | 'optional' | 'none';
export type DelegationPolicy = 'none' | 'policy' | 'always';

export interface NegotiateHttpOptions extends SpnOptions {
  method?: string;
  headers?: FetchHeaders;
  body?: RequestBody;
  /**
   * `required` (default): the server's final token must complete mutual authentication, or the request fails with
   * MUTUAL_AUTH_FAILED and its answer is discarded. `optional`: a missing final token is accepted (reported as
   * `auth.mutual === false`), a bad one still fails. `none`: not asked for (and `auth.mutual` is false).
   */
  mutual?: MutualPolicy;
  /** tls-server-end-point channel bindings (RFC 5929) from the connection used. Default: on for https. */
  channelBindings?: boolean;
  /** `none` (default), `policy` (to targets the KDC marks ok-as-delegate), `always` (unconstrained). */
  delegate?: DelegationPolicy;
  /** Credentials to use; default: the default credential cache. */
  credential?: CredentialsHandle;
  /** Extra ISC_REQ_* flags, e.g. ISC_REQ_USE_DCE_STYLE for a three-leg exchange. */
  contextReq?: number;
  /** Send a token with the first request instead of waiting for a 401. Default false. */
  preemptive?: boolean;
  /** An explicit HTTP proxy (`http://proxy:3128`), for http: targets. */
  proxy?: string | URL;
  /** The proxy's SPN; default `HTTP/<proxy host>`. */
  proxySpn?: string;
  /** Largest body held for replay after a challenge. Default 1 MiB. */
  maxReplayBytes?: number;
  /** Most requests in one authentication exchange. Default 5. */
  maxLegs?: number;
  /** `follow` (default) or `manual`. A redirect authenticates anew for its target; no token crosses hosts. */
  redirect?: 'follow' | 'manual';
  maxRedirects?: number;
  /** Connection options for the private agent: `ca`, `rejectUnauthorized`, `lookup`, `cert`, `key`, `servername`... */
  connect?: https.AgentOptions;
  /** Abandons the exchange: the promise rejects with the signal's reason, as fetch's does. */
  signal?: AbortSignal;
}

export interface NegotiateAuthInfo {
  /** A Negotiate token was sent on the request whose answer this is. */
  authenticated: boolean;
  /**
   * The server proved its identity: mutual authentication was asked for, granted (ISC_RET_MUTUAL_AUTH) and its
   * final token verified. Never true with `mutual: 'none'`, nor for a context the server's answer did not complete.
   */
  mutual: boolean;
  /**
   * Our token carried tls-server-end-point channel bindings of the connection used. The client cannot see whether
   * the server checked them (mod_auth_gssapi 1.6 ignores them); one that checks refuses a mismatch.
   */
  channelBindings: boolean;
  /** The SPN asked for. */
  spn?: string;
  /** Our principal, as the context reports it. */
  client?: string;
  /** Requests sent for the last hop (1 = answered without a challenge). */
  legs: number;
  /** ISC_RET_* flags of the context. */
  contextAttr: number;
  /** Proxy authentication, when a proxy asked for it. */
  proxy?: { authenticated: boolean; mutual: boolean; spn: string };
}

export interface NegotiateHttpResponse {
  status: number;
  statusText: string;
  headers: http.IncomingHttpHeaders;
  /** Name/value pairs as received. */
  rawHeaders: string[];
  /** The body stream (node:http's IncomingMessage). */
  body: http.IncomingMessage;
  /** The URL of the final hop. */
  url: string;
  redirected: boolean;
  auth: NegotiateAuthInfo;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

function checkOptions(o: NegotiateHttpOptions): void {
  if (typeof o !== 'object' || o === null) throw new TypeError('options must be an object');
  if (o.mutual !== undefined && !['required', 'optional', 'none'].includes(o.mutual)) throw new TypeError('mutual must be "required", "optional" or "none"');
  if (o.delegate !== undefined && !['none', 'policy', 'always'].includes(o.delegate)) throw new TypeError('delegate must be "none", "policy" or "always"');
  if (o.redirect !== undefined && !['follow', 'manual'].includes(o.redirect)) throw new TypeError('redirect must be "follow" or "manual"');
  // Parts of the SPN: checked here, before any request, as the API checks every string that becomes a C string.
  for (const key of ['spn', 'proxySpn', 'service'] as const) {
    const v = o[key];
    if (v !== undefined && typeof v !== 'string') throw new TypeError(`${key} must be a string`);
    if (v !== undefined) checkCString(v, key);
  }
  for (const key of ['maxReplayBytes', 'maxLegs', 'maxRedirects'] as const) {
    const v = o[key];
    if (v !== undefined && (!Number.isSafeInteger(v) || v < 0)) throw new TypeError(`${key} must be a non-negative integer`);
  }
}

/** One authentication role (the origin server, or the proxy) across the legs of an exchange. */
class Party {
  client?: NegotiateClient;
  token?: Buffer;
  sent = false;
  bound = false;
  /** Set by verify(): the server proved its identity (see proven()). */
  mutual = false;

  constructor(
    readonly spn: string,
    private readonly o: NegotiateHttpOptions,
    private readonly bindTls: boolean,
  ) {}

  /** First leg: a fresh context, bound to the socket's certificate where asked. */
  async start(socket?: Socket): Promise<void> {
    let channelBindings: Buffer | undefined;
    if (this.bindTls) {
      const cert = socket && peerCertificates.get(socket);
      if (!cert) throw new HttpNegotiateError('CHANNEL_BINDINGS_UNAVAILABLE', 'no tls-server-end-point channel binding: the connection has no server certificate');
      channelBindings = tlsServerEndPoint(cert);
      this.bound = true;
    }
    const mutual = this.o.mutual ?? 'required';
    this.client = new NegotiateClient({
      target: this.spn,
      mutual,
      channelBindings,
      credential: this.o.credential,
      delegate: this.o.delegate === 'always' ? 'unconstrained' : this.o.delegate === 'policy',
      contextReq: this.o.contextReq,
    });
    this.token = await this.stepOrThrow(undefined, 'AUTH_REJECTED');
  }

  async stepOrThrow(token: Buffer | undefined, code: 'AUTH_REJECTED' | 'MUTUAL_AUTH_FAILED', status?: number): Promise<Buffer | undefined> {
    try {
      return (await this.client!.step(token, { signal: this.o.signal })).token;
    } catch (err) {
      if (!(err instanceof SecurityError)) throw err;
      if (token === undefined) throw new HttpNegotiateError('SECURITY', `cannot authenticate to ${this.spn}: ${err.message}`, status, { cause: err });
      throw new HttpNegotiateError(code, `the token from ${this.spn} did not complete the authentication: ${err.message}`, status, { cause: err });
    }
  }

  /**
   * Mutual authentication held: it was asked for (ISC_REQ_MUTUAL_AUTH), the context completed, and the mechanism
   * granted ISC_RET_MUTUAL_AUTH, which Kerberos grants only once it has verified the server's AP-REP (RFC 4120
   * section 3.2.5). A completed context alone is not enough: without the request, the acceptor's final token is a
   * bare accept-completed that proves nothing about the server.
   */
  proven(): boolean {
    const client = this.client;
    return (this.o.mutual ?? 'required') !== 'none' && client !== undefined && client.done && (client.contextAttr & ISC_RET_MUTUAL_AUTH) !== 0;
  }

  dispose(): void {
    this.client?.dispose();
  }
}

interface Hop {
  url: URL;
  method: string;
  headers: Headers;
  body?: Buffer;
}

/**
 * Server certificates (DER) by connection, recorded when the handshake completes: node's TLS socket stops returning
 * the peer certificate once the HTTP client has used the connection, and later legs reuse it.
 */
const peerCertificates = new WeakMap<Socket, Buffer>();

/** The socket of a request, connected (and, for TLS, past the handshake, its certificate recorded). */
async function connectedSocket(req: http.ClientRequest, tls: boolean): Promise<Socket> {
  const socket: Socket = req.socket ?? (await once(req, 'socket'))[0];
  if (tls && !peerCertificates.has(socket)) {
    const s = socket as TLSSocket;
    let cert = s.getPeerX509Certificate?.();
    if (!cert) {
      await once(s, 'secureConnect');
      cert = s.getPeerX509Certificate?.();
    }
    if (cert) peerCertificates.set(socket, cert.raw);
  }
  return socket;
}

function headerValues(res: http.IncomingMessage, name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < res.rawHeaders.length; i += 2) if (res.rawHeaders[i].toLowerCase() === name) out.push(res.rawHeaders[i + 1]);
  return out;
}

async function drain(res: http.IncomingMessage): Promise<void> {
  res.resume();
  if (!res.complete) await once(res, 'end').catch(() => undefined);
}

class HttpExchange {
  private readonly agents = new Map<string, http.Agent>();
  private readonly proxy?: URL;

  constructor(private readonly o: NegotiateHttpOptions) {
    checkOptions(o);
    if (o.proxy !== undefined) {
      this.proxy = new URL(String(o.proxy));
      if (this.proxy.protocol !== 'http:') throw new TypeError('proxy must be an http:// URL');
    }
  }

  private agentFor(url: URL): http.Agent {
    const key = `${url.protocol}//${url.host}`;
    let agent = this.agents.get(key);
    if (!agent) {
      const options = { ...this.o.connect, keepAlive: true, maxSockets: 1 };
      agent = url.protocol === 'https:' ? new https.Agent(options) : new http.Agent(options);
      this.agents.set(key, agent);
    }
    return agent;
  }

  /**
   * An agent whose one connection is a CONNECT tunnel through the proxy to `target`, with TLS to the origin inside:
   * the proxy's 407 is answered on the CONNECT itself, and the origin's certificate (for channel bindings) is the
   * one seen through the tunnel.
   */
  private tunnelAgent(target: URL, proxy: Party): http.Agent {
    const open = (cb: (err: Error | null, socket?: Socket) => void) => {
      this.openTunnel(target, proxy).then((s) => cb(null, s), (err: Error) => cb(err));
    };
    const agent = new https.Agent({ ...this.o.connect, keepAlive: true, maxSockets: 1 });
    (agent as unknown as { createConnection: (o: unknown, cb: (err: Error | null, s?: Socket) => void) => undefined }).createConnection = (_o, cb) => {
      open(cb);
      return undefined;
    };
    this.agents.set(`tunnel:${target.origin}:${this.agents.size}`, agent);
    return agent;
  }

  private async openTunnel(target: URL, proxy: Party): Promise<Socket> {
    const authority = `${target.hostname}:${target.port || 443}`;
    const maxLegs = this.o.maxLegs ?? 5;
    let starting = false;
    for (let leg = 1; ; leg++) {
      if (starting) await proxy.start();
      const headers: Record<string, string> = { host: authority };
      if (proxy.token) {
        headers['proxy-authorization'] = `Negotiate ${proxy.token.toString('base64')}`;
        proxy.sent = true;
        proxy.token = undefined;
      }
      const req = http.request({
        hostname: this.proxy!.hostname.replace(/^\[|\]$/g, ''),
        port: this.proxy!.port || 80,
        method: 'CONNECT',
        path: authority,
        headers,
        agent: false,
        lookup: this.o.connect?.lookup,
        signal: this.o.signal,
      });
      req.end();
      const [res, socket] = (await once(req, 'connect')) as [http.IncomingMessage, Socket];
      const status = res.statusCode ?? 0;
      if (status === 200) {
        if (proxy.sent) await this.verify(res, proxy, 'proxy-authenticate', 'optional');
        const secure = tlsConnect({ ...this.o.connect, socket, servername: this.o.connect?.servername ?? target.hostname });
        await once(secure, 'secureConnect');
        const cert = secure.getPeerX509Certificate();
        if (cert) peerCertificates.set(secure, cert.raw);
        return secure;
      }
      socket.destroy();
      const challenge = status === 407 ? findNegotiate(headerValues(res, 'proxy-authenticate')) : undefined;
      if (challenge && leg < maxLegs && (await this.advance(proxy, challenge.token, status))) {
        starting = !proxy.client;
        continue;
      }
      if (challenge || proxy.sent) return this.reject(res, proxy, status);
      throw new HttpNegotiateError('AUTH_REJECTED', `the proxy refused CONNECT ${authority} (HTTP ${status})`, status);
    }
  }

  /** Closes the connections once the caller is done with the last body. */
  close(): void {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
  }

  /** Runs the whole request: challenges, redirects, verification. */
  async run(url: URL): Promise<NegotiateHttpResponse> {
    const o = this.o;
    const body = await bufferBody(o.body, o.maxReplayBytes ?? DEFAULT_MAX_REPLAY_BYTES);
    const headers = new Headers(o.headers);
    if (body.contentType && !headers.has('content-type')) headers.set('content-type', body.contentType);
    let hop: Hop = { url, method: (o.method ?? 'GET').toUpperCase(), headers, body: body.bytes };
    for (let redirects = 0; ; redirects++) {
      const result = await this.hop(hop);
      const location = result.headers.location;
      if (o.redirect === 'manual' || !REDIRECTS.has(result.status) || !location) return { ...result, redirected: redirects > 0 };
      if (redirects >= (o.maxRedirects ?? 20)) {
        result.body.destroy();
        throw new HttpNegotiateError('TOO_MANY_REDIRECTS', `more than ${o.maxRedirects ?? 20} redirects`, result.status);
      }
      await drain(result.body);
      hop = this.redirected(hop, result.status, new URL(location, hop.url));
    }
  }

  /** The next hop per the Fetch standard's redirect rules; credentials never follow to another origin. */
  private redirected(hop: Hop, status: number, next: URL): Hop {
    if (next.protocol !== 'http:' && next.protocol !== 'https:') throw new HttpNegotiateError('TOO_MANY_REDIRECTS', `redirect to an unsupported scheme ${next.protocol}`, status);
    const headers = new Headers(hop.headers);
    if (next.origin !== hop.url.origin) {
      headers.delete('authorization');
      headers.delete('cookie');
    }
    const toGet = (status === 303 && hop.method !== 'HEAD') || ((status === 301 || status === 302) && hop.method === 'POST');
    if (toGet) {
      for (const h of ['content-type', 'content-length', 'content-encoding', 'content-language', 'content-location']) headers.delete(h);
      return { url: next, method: 'GET', headers };
    }
    return { url: next, method: hop.method, headers, body: hop.body };
  }

  /** One URL: the authentication exchange with the origin (and the proxy), then verification. */
  private async hop(hop: Hop): Promise<Omit<NegotiateHttpResponse, 'redirected'>> {
    const o = this.o;
    const tls = hop.url.protocol === 'https:';
    const origin = new Party(await spnForUrl(hop.url, o), o, tls && (o.channelBindings ?? true));
    const proxy = this.proxy ? new Party(o.proxySpn ?? (await spnForUrl(this.proxy, { service: o.service })), o, false) : undefined;
    // https through the proxy: a CONNECT tunnel (authenticated to the proxy) carries TLS to the origin end to end.
    const tunnel = proxy && tls ? this.tunnelAgent(hop.url, proxy) : undefined;
    const maxLegs = o.maxLegs ?? 5;
    let starting = o.preemptive ?? false;
    let proxyStarting = false;
    try {
      for (let leg = 1; ; leg++) {
        const res = await this.send(hop, async (socket) => {
          if (starting) await origin.start(socket);
          if (proxy && proxyStarting) await proxy.start(socket);
          starting = proxyStarting = false;
        }, origin, tunnel ? undefined : proxy, tunnel);
        const status = res.statusCode ?? 0;
        if (proxy && status === 407) {
          const challenge = findNegotiate(headerValues(res, 'proxy-authenticate'));
          if (challenge && leg < maxLegs && (await this.advance(proxy, challenge.token, status))) {
            proxyStarting = !proxy.client;
            await drain(res);
            continue;
          }
          if (challenge || proxy.sent) return this.reject(res, proxy, status);
        } else if (status === 401) {
          const challenge = findNegotiate(headerValues(res, 'www-authenticate'));
          if (challenge && leg < maxLegs && (await this.advance(origin, challenge.token, status))) {
            starting = !origin.client;
            await drain(res);
            continue;
          }
          if (origin.sent) return this.reject(res, origin, status);
          if (challenge && leg >= maxLegs) throw new HttpNegotiateError('TOO_MANY_LEGS', `no answer after ${maxLegs} requests`, status);
        }
        if (proxy?.sent && !tunnel) await this.verify(res, proxy, 'proxy-authenticate', 'optional');
        if (origin.sent) await this.verify(res, origin, 'www-authenticate', o.mutual ?? 'required');
        return {
          status,
          statusText: res.statusMessage ?? '',
          headers: res.headers,
          rawHeaders: res.rawHeaders,
          body: res,
          url: hop.url.href,
          auth: {
            authenticated: origin.sent,
            mutual: origin.mutual,
            channelBindings: origin.sent && origin.bound,
            spn: origin.spn,
            client: origin.client?.context ? clientName(origin.client) : undefined,
            legs: leg,
            contextAttr: origin.client?.contextAttr ?? 0,
            ...(proxy?.sent ? { proxy: { authenticated: true, mutual: proxy.mutual, spn: proxy.spn } } : {}),
          },
        };
      }
    } finally {
      origin.dispose();
      proxy?.dispose();
    }
  }

  /**
   * A challenge arrived. Returns true when there is a next leg: the first one (the context starts when the socket
   * is known) or the context's answer to the server's token.
   */
  private async advance(party: Party, serverToken: Buffer | undefined, status: number): Promise<boolean> {
    if (!party.client) return true;
    if (!party.sent || !serverToken || party.client.done) return false;
    party.token = await party.stepOrThrow(serverToken, 'AUTH_REJECTED', status);
    return party.token !== undefined;
  }

  /** The server refused what we sent: the answer is an unauthenticated error and is not handed over. */
  private async reject(res: http.IncomingMessage, party: Party, status: number): Promise<never> {
    res.destroy();
    throw new HttpNegotiateError('AUTH_REJECTED', `${party.spn} refused the authentication (HTTP ${status})`, status);
  }

  /** The server's final token must complete the context (mutual authentication) before its answer is trusted. */
  private async verify(res: http.IncomingMessage, party: Party, header: string, mutual: MutualPolicy): Promise<void> {
    const client = party.client!;
    if (client.done) {
      // Complete before this answer: without mutual authentication, or after a last leg of our own (DCE style).
      party.mutual = party.proven();
      return;
    }
    try {
      const challenge = findNegotiate(headerValues(res, header));
      if (challenge?.token) {
        await party.stepOrThrow(challenge.token, 'MUTUAL_AUTH_FAILED', res.statusCode);
        party.mutual = party.proven();
      }
      if (!party.mutual && mutual === 'required') {
        throw new HttpNegotiateError('MUTUAL_AUTH_FAILED', `${party.spn} answered HTTP ${res.statusCode} without proving its identity (no final Negotiate token)`, res.statusCode);
      }
    } catch (err) {
      res.destroy();
      throw err;
    }
  }

  /** One request on the hop's connection; `prepare` runs once the socket is known, before the headers go out. */
  private async send(hop: Hop, prepare: (socket: Socket) => Promise<void>, origin: Party, proxy?: Party, tunnel?: http.Agent): Promise<http.IncomingMessage> {
    const viaProxy = this.proxy !== undefined && !tunnel;
    const connectTo = viaProxy ? this.proxy! : hop.url;
    const tls = connectTo.protocol === 'https:';
    const headers: Record<string, string> = Object.fromEntries(hop.headers);
    if (viaProxy) headers.host = hop.url.host;
    const req = (tls ? https : http).request({
      protocol: connectTo.protocol,
      hostname: connectTo.hostname.replace(/^\[|\]$/g, ''),
      port: connectTo.port || undefined,
      path: viaProxy ? hop.url.href : hop.url.pathname + hop.url.search,
      method: hop.method,
      headers,
      agent: tunnel ?? this.agentFor(connectTo),
      signal: this.o.signal,
    });
    const response = once(req, 'response') as Promise<[http.IncomingMessage]>;
    response.catch(() => undefined);
    try {
      const socket = await Promise.race([connectedSocket(req, tls), response.then(() => { throw new Error('response before request'); })]);
      await prepare(socket);
      if (origin.token) {
        req.setHeader('authorization', `Negotiate ${origin.token.toString('base64')}`);
        origin.sent = true;
        origin.token = undefined;
      }
      if (proxy?.token) {
        req.setHeader('proxy-authorization', `Negotiate ${proxy.token.toString('base64')}`);
        proxy.sent = true;
        proxy.token = undefined;
      }
    } catch (err) {
      req.destroy();
      throw err;
    }
    req.end(hop.body);
    const [res] = await response;
    forgetTokens(req);
    return res;
  }
}

const SENT_TOKEN = /^((?:proxy-)?authorization:[ \t]*Negotiate[ \t]+)[A-Za-z0-9+/=]+/gim;

/**
 * node:http keeps what it sent on the ClientRequest (the serialized head in `_header`, the header map under the
 * kOutHeaders symbol), and the answer's stream references it (`res.req`). Once the answer has come, our tokens are
 * replaced there, so that printing the stream prints no credential (docs/security.md). Node internals: if they
 * change, test/integration/http.test.ts ("print none of the tokens we sent") says so.
 */
function forgetTokens(req: http.ClientRequest): void {
  const r = req as unknown as Record<string | symbol, unknown>;
  if (typeof r._header === 'string') r._header = r._header.replace(SENT_TOKEN, '$1[redacted]');
  for (const sym of Object.getOwnPropertySymbols(req)) {
    const map = r[sym];
    if (sym.description !== 'kOutHeaders' || typeof map !== 'object' || map === null) continue;
    for (const name of ['authorization', 'proxy-authorization']) {
      const entry = (map as Record<string, unknown>)[name];
      if (Array.isArray(entry) && typeof entry[1] === 'string' && /^Negotiate\s/i.test(entry[1])) entry[1] = 'Negotiate [redacted]';
    }
  }
}

function clientName(client: NegotiateClient): string | undefined {
  const r = queryContextAttributes(client.context!, SECPKG_ATTR_NAMES);
  const value = r.value as { userName?: string } | undefined;
  return value?.userName;
}

/**
 * An HTTP(S) request with Negotiate authentication, over node:http / node:https. The body stream of the answer is
 * returned once the server is verified; read it (or destroy it) to release the connection.
 */
export async function negotiateRequest(url: string | URL, options: NegotiateHttpOptions = {}): Promise<NegotiateHttpResponse> {
  return printable(await exchange(url, options));
}

/**
 * The result as util.inspect and JSON.stringify show it: everything but the body stream, whose request (`body.req`)
 * node:http keeps with the headers we sent, our Authorization token among them (docs/security.md).
 */
function printable(result: NegotiateHttpResponse): NegotiateHttpResponse {
  const summary = () => {
    const { status, statusText, url, redirected, headers, auth } = result;
    return { status, statusText, url, redirected, headers, auth };
  };
  Object.defineProperties(result, {
    toJSON: { value: summary },
    [inspect.custom]: {
      value: (depth: number, options: InspectOptionsStylized, show: typeof inspect) =>
        `NegotiateHttpResponse ${show({ ...summary(), body: '[IncomingMessage]' }, { ...options, depth: options.depth === null ? null : depth })}`,
    },
  });
  return result;
}

async function exchange(url: string | URL, options: NegotiateHttpOptions): Promise<NegotiateHttpResponse> {
  const target = new URL(String(url));
  if (target.protocol !== 'http:' && target.protocol !== 'https:') throw new TypeError(`unsupported URL scheme ${target.protocol}`);
  const exchange = new HttpExchange(options);
  const signal = options.signal;
  try {
    // As fetch does: an aborted exchange rejects with the signal's reason (e.g. AbortSignal.timeout's TimeoutError),
    // not with node:http's AbortError or a reset connection, whichever step the abort interrupted.
    signal?.throwIfAborted();
    const result = await exchange.run(target);
    result.body.once('close', () => exchange.close());
    return result;
  } catch (err) {
    exchange.close();
    throw signal?.aborted ? signal.reason : err;
  }
}
