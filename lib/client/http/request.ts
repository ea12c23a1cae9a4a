// RFC 4559 over node:http / node:https: send, and on `401 WWW-Authenticate: Negotiate` (or `407
// Proxy-Authenticate: Negotiate` from an explicit proxy) run the context loop on the same connection, then verify
// the server's final token before anything of its answer is handed over. Each hop leases one pooled connection
// (pool.ts: an agent with one keep-alive socket) so that every leg of an exchange, and the channel bindings computed
// for it, belong to the connection actually used; the connection serves later calls with the same authentication.
import { once } from 'node:events';
import * as http from 'node:http';
import * as https from 'node:https';
import type { Socket } from 'node:net';
import { inspect, type InspectOptionsStylized } from 'node:util';
import { NegotiateClient } from '../negotiate.js';
import { queryContextAttributes } from '../../facade/query.js';
import { SECPKG_ATTR_NAMES } from '../../vocabulary/attributes.js';
import { DEFAULT_MAX_REPLAY_BYTES, bufferBody } from './body.js';
import { HttpNegotiateError } from './errors.js';
import { checkOptions, type NegotiateHttpOptions, type NegotiateHttpResponse } from './options.js';
import { findNegotiate } from './challenge.js';
import { forget, isKnown, remember } from './known-origins.js';
import { Party, challenged, connectedSocket, drain, headerValues, verify } from './party.js';
import { carriedTokenOn, lease as leaseAgent, poolKey, release, tokenSentOn } from './pool.js';
import { REDIRECTS, redirected, type Hop } from './redirect.js';
import { spnForUrl } from './spn.js';
import { tunnelAgent } from './tunnel.js';

export type { DelegationPolicy, MutualPolicy, NegotiateAuthInfo, NegotiateHttpOptions, NegotiateHttpResponse } from './options.js';

/** A connection's request failed before any answer, on a socket kept from an earlier request: the server closed it. */
class StaleConnection extends Error {}

const STALE = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);
/** Methods a request may be sent again for after such a failure (RFC 9110 section 9.2.2). */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

interface Lease {
  key?: string;
  agent: http.Agent;
  /** Set once the hop that leased it ended well: who it authenticated as (if anyone). */
  ok?: { principal?: string };
}

class HttpExchange {
  private readonly leases: Lease[] = [];
  private readonly proxy?: URL;

  constructor(private readonly o: NegotiateHttpOptions) {
    checkOptions(o);
    if (o.proxy !== undefined) {
      this.proxy = new URL(String(o.proxy));
      if (this.proxy.protocol !== 'http:') throw new TypeError('proxy must be an http:// URL');
    }
  }

  /**
   * Returns the connections to the pool (pool.ts) once the caller is done with the last body; those of a hop that
   * did not end well, and the CONNECT tunnels (each bound to its hop's proxy authentication), are closed.
   */
  close(): void {
    for (const l of this.leases.splice(0)) {
      if (l.key === undefined || (carriedTokenOn(l.agent) && !this.tokenAtOnce(l.key))) l.agent.destroy();
      else release(l.key, l.agent, l.ok !== undefined, l.ok?.principal);
    }
  }

  /**
   * Whether a call with these options to `key` sends its token with its first request; only such a call may take a
   * connection that carried a token (pool.ts, carriedToken), so one that cannot is closed rather than kept idle.
   */
  private tokenAtOnce(key: string): boolean {
    return this.proxy === undefined && (this.o.preemptive ?? isKnown(key));
  }

  /** Runs the whole request: challenges, redirects, verification. */
  async run(url: URL): Promise<NegotiateHttpResponse> {
    const o = this.o;
    const body = o.body === undefined || o.body === null ? {} : await bufferBody(o.body, o.maxReplayBytes ?? DEFAULT_MAX_REPLAY_BYTES);
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
      hop = redirected(hop, result.status, new URL(location, hop.url));
    }
  }

  /**
   * One URL on a pooled connection. Started over at most once each: when a kept connection turns out closed by the
   * server (idempotent methods only), and when a token sent unasked to a known origin (known-origins.ts) is answered
   * with a 401 that continues nothing (the origin is forgotten; the request goes again without a token).
   */
  private async hop(hop: Hop): Promise<Omit<NegotiateHttpResponse, 'redirected'>> {
    const o = this.o;
    const tls = hop.url.protocol === 'https:';
    const spn = await spnForUrl(hop.url, o);
    const proxySpn = this.proxy ? o.proxySpn ?? (await spnForUrl(this.proxy, { service: o.service })) : undefined;
    // https through the proxy: a CONNECT tunnel (authenticated to the proxy) carries TLS to the origin end to end.
    // Not pooled: its connection is made by its hop's proxy authentication.
    const tunneled = this.proxy !== undefined && tls;
    const connectTo = this.proxy && !tunneled ? this.proxy : hop.url;
    const key = tunneled ? undefined : poolKey(hop.url, spn, o, tls);
    let optimistic = o.preemptive === undefined && key !== undefined && isKnown(key);
    let retried = false;
    // A connection that carried a token only serves a request that sends one at once, to the origin and not through
    // a proxy (whose token never goes at once): pool.ts, carriedToken.
    const leaseFor = (atOnce: boolean) => leaseAgent(key!, connectTo.protocol === 'https:', o.connect, atOnce && this.proxy === undefined);
    // One agent for every attempt: a closed connection is replaced by the agent itself.
    let lease: Lease | undefined = tunneled ? undefined : { key, agent: leaseFor(o.preemptive ?? optimistic) };
    if (lease) this.leases.push(lease);
    for (;;) {
      const origin = new Party(spn, o, tls && (o.channelBindings ?? true));
      const proxy = proxySpn !== undefined ? new Party(proxySpn, o, false) : undefined;
      if (tunneled) this.leases.push((lease = { agent: tunnelAgent(o, this.proxy!, hop.url, proxy!) }));
      try {
        const result = await this.legs(hop, origin, proxy, lease!.agent, tunneled, o.preemptive ?? optimistic);
        if (result === 'restart') {
          forget(key!);
          optimistic = false;
          // The request goes again without a token: not on the connection that carried the refused one.
          lease!.agent.destroy();
          lease!.agent = leaseFor(false);
          continue;
        }
        lease!.ok = { principal: result.auth.client };
        if (key !== undefined && o.preemptive === undefined && origin.sent && result.auth.mutual) remember(key);
        return result;
      } catch (err) {
        // An origin that failed to authenticate gets no more unasked tokens: its next request waits for a 401.
        if (key !== undefined && err instanceof HttpNegotiateError) forget(key);
        if (!(err instanceof StaleConnection) || retried) throw err instanceof StaleConnection ? err.cause : err;
        retried = true;
      } finally {
        origin.dispose();
        proxy?.dispose();
      }
    }
  }

  /** The legs of one hop on one connection: challenges answered, the final token verified. */
  private async legs(hop: Hop, origin: Party, proxy: Party | undefined, agent: http.Agent, tunneled: boolean, preemptive: boolean): Promise<Omit<NegotiateHttpResponse, 'redirected'> | 'restart'> {
    const o = this.o;
    const maxLegs = o.maxLegs ?? 5;
    let starting = preemptive;
    let proxyStarting = false;
    // A token that goes unasked because the origin is known (known-origins.ts), not because the caller said so.
    const optimistic = preemptive && o.preemptive === undefined;
    for (let leg = 1; ; leg++) {
      const res = await this.send(hop, async (socket) => {
        if (starting) await origin.start(socket);
        if (proxy && proxyStarting) await proxy.start(socket);
        starting = proxyStarting = false;
      }, origin, tunneled ? undefined : proxy, agent, tunneled);
      const status = res.statusCode ?? 0;
      const party = proxy && status === 407 ? proxy : status === 401 ? origin : undefined;
      // A token sent unasked (optimistic: the origin was known) that the server answers with a 401 carrying no
      // token of its own: start over the ordinary way.
      if (party === origin && leg === 1 && optimistic && !findNegotiate(headerValues(res, 'www-authenticate'))?.token) {
        await drain(res);
        return 'restart';
      }
      if (party && (await challenged(res, party, party === proxy ? 'proxy-authenticate' : 'www-authenticate', leg, maxLegs))) {
        if (party === proxy) proxyStarting = !proxy.client;
        else starting = !origin.client;
        await drain(res);
        continue;
      }
      if (proxy?.sent && !tunneled) await verify(res, proxy, 'proxy-authenticate', 'optional');
      // An unasked token that the answer ignores (no Negotiate in it: a resource of the origin that needs no
      // authentication, a redirect) counts as never sent: the answer is handed over unauthenticated, exactly as the
      // same request without the token would have been. A final token that is there must verify, as always.
      if (optimistic && leg === 1 && origin.sent && !findNegotiate(headerValues(res, 'www-authenticate'))) origin.sent = false;
      if (origin.sent) await verify(res, origin, 'www-authenticate', o.mutual ?? 'required');
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
          client: origin.sent && origin.client?.context ? clientName(origin.client) : undefined,
          legs: leg,
          contextAttr: origin.client?.contextAttr ?? 0,
          ...(proxy?.sent ? { proxy: { authenticated: true, mutual: proxy.mutual, spn: proxy.spn } } : {}),
        },
      };
    }
  }

  /** One request on the hop's connection; `prepare` runs once the socket is known, before the headers go out. */
  private async send(hop: Hop, prepare: (socket: Socket) => Promise<void>, origin: Party, proxy: Party | undefined, agent: http.Agent, tunneled: boolean): Promise<http.IncomingMessage> {
    const viaProxy = this.proxy !== undefined && !tunneled;
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
      agent,
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
        tokenSentOn(agent);
      }
      if (proxy?.token) {
        req.setHeader('proxy-authorization', `Negotiate ${proxy.token.toString('base64')}`);
        proxy.sent = true;
        proxy.token = undefined;
        tokenSentOn(agent);
      }
    } catch (err) {
      req.destroy();
      throw err;
    }
    req.end(hop.body);
    let res: http.IncomingMessage;
    try {
      [res] = await response;
    } catch (err) {
      // The server closed a kept connection as this request went out (its idle timeout): the hop starts over.
      const code = (err as NodeJS.ErrnoException).code;
      if (req.reusedSocket && code && STALE.has(code) && IDEMPOTENT.has(hop.method) && !this.o.signal?.aborted) throw new StaleConnection(code, { cause: err });
      throw err;
    }
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
    // The connection goes back to the pool when node:http has it back (the body read to its end), or is closed.
    result.body.once('close', () => exchange.close());
    return result;
  } catch (err) {
    exchange.close();
    throw signal?.aborted ? signal.reason : err;
  }
}
