// One authentication role of an HTTP exchange (the origin server, or a proxy) across its legs: its context, the
// token it has to send, and how a challenge (401 WWW-Authenticate, 407 Proxy-Authenticate) and the final answer are
// handled. One place for the origin's legs, the proxy's, and the CONNECT tunnel's.
import { once } from 'node:events';
import type * as http from 'node:http';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { NegotiateClient } from '../negotiate.js';
import { ISC_RET_MUTUAL_AUTH } from '../../vocabulary/flags.js';
import { SecurityError } from '../../vocabulary/status.js';
import { tlsServerEndPoint } from './channel-bindings.js';
import { findNegotiate } from './challenge.js';
import { HttpNegotiateError } from './errors.js';
import type { MutualPolicy, NegotiateHttpOptions } from './options.js';

/** One authentication role (the origin server, or the proxy) across the legs of an exchange. */
export class Party {
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
      channelBindings = socket && endPointBindings.get(socket);
      if (!channelBindings) {
        const cert = socket && peerCertificates.get(socket);
        if (!cert) throw new HttpNegotiateError('CHANNEL_BINDINGS_UNAVAILABLE', 'no tls-server-end-point channel binding: the connection has no server certificate');
        channelBindings = tlsServerEndPoint(cert);
        endPointBindings.set(socket!, channelBindings);
      }
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

/**
 * Server certificates (DER) by connection, recorded when the handshake completes: node's TLS socket stops returning
 * the peer certificate once the HTTP client has used the connection, and later legs reuse it.
 */
export const peerCertificates = new WeakMap<Socket, Buffer>();

/** tls-server-end-point bindings by connection: a kept connection's certificate is hashed once, not per call. */
const endPointBindings = new WeakMap<Socket, Buffer>();

/** The socket of a request, connected (and, for TLS, past the handshake, its certificate recorded). */
export async function connectedSocket(req: http.ClientRequest, tls: boolean): Promise<Socket> {
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

export function headerValues(res: http.IncomingMessage, name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < res.rawHeaders.length; i += 2) if (res.rawHeaders[i].toLowerCase() === name) out.push(res.rawHeaders[i + 1]);
  return out;
}

/**
 * How much of a body read only to reuse its connection (a challenge's, a redirect's) is read, and for how long. A
 * server's 401 whose body never ends (or runs to gigabytes) would otherwise hold the exchange forever; past either
 * bound the connection is closed and the next request goes on a new one, which a Kerberos exchange allows (its next
 * leg is bound to no connection; a connection-bound multi-leg exchange then fails, as it would on any closed
 * connection).
 */
const DRAIN_MAX_BYTES = 256 * 1024;
const DRAIN_MAX_MS = 2_000;

export async function drain(res: http.IncomingMessage): Promise<void> {
  if (res.complete || res.destroyed) {
    res.resume();
    return;
  }
  await new Promise<void>((resolve) => {
    let bytes = 0;
    const done = () => {
      clearTimeout(timer);
      res.off('data', onData);
      resolve();
    };
    const giveUp = () => {
      res.destroy();
      done();
    };
    const onData = (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > DRAIN_MAX_BYTES) giveUp();
    };
    const timer = setTimeout(giveUp, DRAIN_MAX_MS);
    res.on('data', onData);
    res.once('end', done);
    res.once('error', done);
    res.once('close', done);
  });
}

/**
 * A 401 or 407 that may be a Negotiate challenge to `party`. True: there is a next leg (the first one, whose context
 * starts once the socket is known, or the context's answer to the server's token). False: it is not a challenge this
 * exchange can answer and the caller decides what the answer means. Throws when the server refused what was sent, or
 * the exchange ran out of legs.
 */
export async function challenged(res: http.IncomingMessage, party: Party, header: string, leg: number, maxLegs: number): Promise<boolean> {
  const status = res.statusCode ?? 0;
  const challenge = findNegotiate(headerValues(res, header));
  if (challenge && leg < maxLegs && (await advance(party, challenge.token, status))) return true;
  if (party.sent) return refuse(res, party, status);
  if (challenge) throw new HttpNegotiateError('TOO_MANY_LEGS', `no answer after ${maxLegs} requests`, status);
  return false;
}

async function advance(party: Party, serverToken: Buffer | undefined, status: number): Promise<boolean> {
  if (!party.client) return true;
  if (!party.sent || !serverToken || party.client.done) return false;
  party.token = await party.stepOrThrow(serverToken, 'AUTH_REJECTED', status);
  return party.token !== undefined;
}

/** The server refused what we sent: the answer is an unauthenticated error and is not handed over. */
export async function refuse(res: http.IncomingMessage, party: Party, status: number): Promise<never> {
  res.destroy();
  throw new HttpNegotiateError('AUTH_REJECTED', `${party.spn} refused the authentication (HTTP ${status})`, status);
}

/** The server's final token must complete the context (mutual authentication) before its answer is trusted. */
export async function verify(res: http.IncomingMessage, party: Party, header: string, mutual: MutualPolicy): Promise<void> {
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
