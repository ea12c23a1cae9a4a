// A challenge whose body never ends, or never stops: the HTTP client reads a 401's body only to reuse its connection
// (lib/client/http/party.ts, drain), so past a bound it closes that connection and sends its token on a new one,
// instead of waiting forever. The server is node:http with our own acceptor (negotiate()) behind a hostile first
// answer; the KDC is real.
import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { negotiate, negotiateFetch, type NegotiateHandler, type NegotiateRequest } from '../../lib/index.js';
import { forgetAll } from '../../lib/client/http/known-origins.js';
import { closeIdleConnections } from '../../lib/client/http/pool.js';
import { kdcWithAlice, type Kdc } from '../harness/kdc.js';
import { loopbackLookup as lookup } from '../harness/loopback.js';


describe('HTTP client: a challenge whose body never ends', function () {
  this.timeout(60_000);
  let kdc: Kdc;
  let auth: NegotiateHandler;
  let server: Server;
  let port: number;
  let body: 'stalled' | 'endless' = 'stalled';
  const timers = new Set<NodeJS.Timeout>();

  before(async () => {
    kdc = await kdcWithAlice();
    auth = negotiate({ keytab: kdc.principals.http.keytab! });
    server = createServer((req, res) => {
      if (!req.headers.authorization) {
        // The challenge, then a body that stalls after one chunk, or one that never stops coming.
        res.writeHead(401, { 'WWW-Authenticate': 'Negotiate', 'Content-Type': 'text/html' });
        res.write('<html>');
        if (body === 'endless') {
          const chunk = Buffer.alloc(16 * 1024, 0x61);
          const timer = setInterval(() => (res.destroyed ? clearInterval(timer) : res.write(chunk)), 1);
          timers.add(timer);
        }
        return;
      }
      void auth(req, res, () => {
        const text = JSON.stringify({ principal: (req as NegotiateRequest).negotiate!.principal });
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) }).end(text);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  after(async () => {
    for (const t of timers) clearInterval(t);
    closeIdleConnections();
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
    auth?.close();
  });

  for (const kind of ['stalled', 'endless'] as const) {
    it(`a ${kind} 401 body: the token goes on a new connection within the bound, and the answer is alice's`, async () => {
      body = kind;
      forgetAll();
      const started = Date.now();
      const res = await negotiateFetch(`http://${kdc.hostname}:${port}/`, { negotiate: { preemptive: false, connect: { lookup } } });
      const took = Date.now() - started;
      expect(res.status).to.equal(200);
      expect(res.negotiate).to.include({ authenticated: true, mutual: true });
      expect(await res.json()).to.deep.equal({ principal: kdc.principals.alice.name });
      expect(took, 'ms').to.be.lessThan(10_000);
    });
  }
});
