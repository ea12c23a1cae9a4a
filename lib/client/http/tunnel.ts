// https through an explicit proxy: a CONNECT tunnel, authenticated to the proxy (407 Proxy-Authenticate answered on
// the CONNECT itself), with TLS to the origin inside it, so that the origin's certificate, and the channel bindings
// made from it, are the ones seen through the tunnel.
import { once } from 'node:events';
import * as http from 'node:http';
import * as https from 'node:https';
import type { Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { HttpNegotiateError } from './errors.js';
import type { NegotiateHttpOptions } from './options.js';
import { challenged, peerCertificates, refuse, verify, type Party } from './party.js';

/** An agent whose one connection is a CONNECT tunnel through `proxyUrl` to `target`. */
export function tunnelAgent(o: NegotiateHttpOptions, proxyUrl: URL, target: URL, proxy: Party): https.Agent {
  const agent = new https.Agent({ ...o.connect, keepAlive: true, maxSockets: 1 });
  (agent as unknown as { createConnection: (o: unknown, cb: (err: Error | null, s?: Socket) => void) => undefined }).createConnection = (_o, cb) => {
    openTunnel(o, proxyUrl, target, proxy).then((s) => cb(null, s), (err: Error) => cb(err));
    return undefined;
  };
  return agent;
}

async function openTunnel(o: NegotiateHttpOptions, proxyUrl: URL, target: URL, proxy: Party): Promise<Socket> {
  const authority = `${target.hostname}:${target.port || 443}`;
  const maxLegs = o.maxLegs ?? 5;
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
      hostname: proxyUrl.hostname.replace(/^\[|\]$/g, ''),
      port: proxyUrl.port || 80,
      method: 'CONNECT',
      path: authority,
      headers,
      agent: false,
      lookup: o.connect?.lookup,
      signal: o.signal,
    });
    req.end();
    const [res, socket] = (await once(req, 'connect')) as [http.IncomingMessage, Socket];
    const status = res.statusCode ?? 0;
    if (status === 200) {
      if (proxy.sent) await verify(res, proxy, 'proxy-authenticate', 'optional');
      const secure = tlsConnect({ ...o.connect, socket, servername: o.connect?.servername ?? target.hostname });
      await once(secure, 'secureConnect');
      const cert = secure.getPeerX509Certificate();
      if (cert) peerCertificates.set(secure, cert.raw);
      return secure;
    }
    socket.destroy();
    if (status === 407 && (await challenged(res, proxy, 'proxy-authenticate', leg, maxLegs))) {
      starting = !proxy.client;
      continue;
    }
    if (proxy.sent) return refuse(res, proxy, status);
    throw new HttpNegotiateError('AUTH_REJECTED', `the proxy refused CONNECT ${authority} (HTTP ${status})`, status);
  }
}
