// RFC 4559 over node:http / node:https: send, and on `401 WWW-Authenticate: Negotiate` (or `407
// Proxy-Authenticate: Negotiate` from an explicit proxy) run the context loop on the same connection, then verify
// the server's final token before anything of its answer is handed over. One connection per origin (a private
// keep-alive agent with one socket) so that every leg of an exchange, and the channel bindings computed for it,
// belong to the connection actually used.
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
import { Party, challenged, connectedSocket, drain, verify } from './party.js';
import { REDIRECTS, redirected, type Hop } from './redirect.js';
import { spnForUrl } from './spn.js';
import { tunnelAgent } from './tunnel.js';

export type { DelegationPolicy, MutualPolicy, NegotiateAuthInfo, NegotiateHttpOptions, NegotiateHttpResponse } from './options.js';

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
      hop = redirected(hop, result.status, new URL(location, hop.url));
    }
  }

  /** One URL: the authentication exchange with the origin (and the proxy), then verification. */
  private async hop(hop: Hop): Promise<Omit<NegotiateHttpResponse, 'redirected'>> {
    const o = this.o;
    const tls = hop.url.protocol === 'https:';
    const origin = new Party(await spnForUrl(hop.url, o), o, tls && (o.channelBindings ?? true));
    const proxy = this.proxy ? new Party(o.proxySpn ?? (await spnForUrl(this.proxy, { service: o.service })), o, false) : undefined;
    // https through the proxy: a CONNECT tunnel (authenticated to the proxy) carries TLS to the origin end to end.
    let tunnel: http.Agent | undefined;
    if (proxy && tls) {
      tunnel = tunnelAgent(o, this.proxy!, hop.url, proxy);
      this.agents.set(`tunnel:${hop.url.origin}:${this.agents.size}`, tunnel);
    }
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
        const party = proxy && status === 407 ? proxy : status === 401 ? origin : undefined;
        if (party && (await challenged(res, party, party === proxy ? 'proxy-authenticate' : 'www-authenticate', leg, maxLegs))) {
          if (party === proxy) proxyStarting = !proxy.client;
          else starting = !origin.client;
          await drain(res);
          continue;
        }
        if (proxy?.sent && !tunnel) await verify(res, proxy, 'proxy-authenticate', 'optional');
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
