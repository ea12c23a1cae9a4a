// The HTTP acceptor's protocol edges on a listening node:http server: a real three-leg SPNEGO exchange (the client
// lists NTLM first, so the acceptor asks for Kerberos and a mechListMIC) bound to its connection, the same
// continuation refused on another connection, re-authentication on one connection, authentication once per
// connection, 400 for malformed headers, 401 with a fresh challenge for refused tokens, and hostile input that
// leaves the server up with its per-connection state freed.
import { expect } from 'chai';
import { once } from 'node:events';
import { Agent, createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ISC_REQ_INTEGRITY, ISC_REQ_MUTUAL_AUTH, NegotiateClient, SECBUFFER_DATA, SECBUFFER_TOKEN, acquireCredentialsHandle, connectionsWithState,
  deleteSecurityContext, freeCredentialsHandle, initializeSecurityContext, makeSignature, negotiate, type CredentialsHandle,
  type NegotiateErrorEvent, type NegotiateHandler, type NegotiateRequest,
} from '../../lib/index.js';
import { MECH_OID } from '../../lib/protocol/oids.js';
import { decodeNegToken, encodeMechTypeList, encodeNegTokenInit, encodeNegTokenResp } from '../../lib/protocol/tokens.js';
import { kdcWithAlice, type Kdc } from '../harness/kdc.js';
import { mulberry32, mutate } from '../harness/mutate.js';

interface Answer { status: number; headers: IncomingHttpHeaders; body: string; port: number }

function send(port: number, agent: Agent, authorization?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, agent, path: '/', headers: authorization === undefined ? {} : { authorization } }, (res) => {
      const local = res.socket?.localPort ?? 0;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body, port: local }));
    });
    req.on('error', reject);
    req.end();
  });
}

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const serverToken = (a: Answer) => {
  const m = /^Negotiate ([A-Za-z0-9+/=]+)$/.exec(String(a.headers['www-authenticate'] ?? ''));
  return m ? Buffer.from(m[1], 'base64') : undefined;
};

describe('HTTP acceptor middleware: protocol edges and hostile input', function () {
  this.timeout(120_000);
  let kdc: Kdc;
  let server: Server;
  let port: number;
  let perConn: Server;
  let perConnPort: number;
  let auth: NegotiateHandler;
  let authPerConn: NegotiateHandler;
  let krb: CredentialsHandle;
  const errors: NegotiateErrorEvent[] = [];
  const agents: Agent[] = [];
  const agent = () => {
    const a = new Agent({ keepAlive: true, maxSockets: 1 });
    agents.push(a);
    return a;
  };

  before(async () => {
    kdc = await kdcWithAlice();
    krb = await acquireCredentialsHandle({ package: 'Kerberos' });
    auth = negotiate({ keytab: kdc.principals.http.keytab!, onError: (e) => void errors.push(e) });
    server = createServer({ maxHeaderSize: 256 * 1024 }, (req, res) => void auth(req, res, () => {
      const n = (req as NegotiateRequest).negotiate!;
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ principal: n.principal, reused: n.reused === true }));
    }));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
    authPerConn = negotiate({ keytab: kdc.principals.http.keytab!, perConnection: true });
    perConn = createServer((req, res) => void authPerConn(req, res, () => {
      const n = (req as NegotiateRequest).negotiate!;
      res.writeHead(200).end(JSON.stringify({ principal: n.principal, reused: n.reused === true }));
    }));
    await new Promise<void>((r) => perConn.listen(0, '127.0.0.1', r));
    perConnPort = (perConn.address() as AddressInfo).port;
  });

  after(async () => {
    for (const a of agents) a.destroy();
    for (const s of [server, perConn]) {
      s?.closeAllConnections();
      await new Promise((r) => s?.close(r));
    }
    auth?.close();
    authPerConn?.close();
    if (krb) freeCredentialsHandle(krb);
  });

  /** The client's half of the three-leg exchange: NegTokenInit listing NTLM first without a token, then Kerberos. */
  async function threeLegClient() {
    const mechs = [MECH_OID.NTLM, MECH_OID.KRB5];
    const req = ISC_REQ_MUTUAL_AUTH | ISC_REQ_INTEGRITY;
    const first = await initializeSecurityContext({ credential: krb, targetName: `HTTP/${kdc.hostname}`, contextReq: req });
    const context = first.context!;
    return {
      leg1: encodeNegTokenInit({ mechTypes: mechs }),
      leg2: encodeNegTokenResp({ responseToken: Buffer.from(first.output[0].buffer) }),
      /** Completes the Kerberos context with the server's AP-REP and signs the mechanism list (RFC 4178 section 5). */
      async leg3(reply: Buffer) {
        const resp = decodeNegToken(reply);
        if (resp.kind !== 'resp' || !resp.token.responseToken) throw new Error('no AP-REP in the second reply');
        const done = await initializeSecurityContext({ context, contextReq: req, input: [{ type: SECBUFFER_TOKEN, buffer: resp.token.responseToken }] });
        expect(done.statusName).to.equal('SEC_E_OK');
        const sig = makeSignature(context, 0, [{ type: SECBUFFER_DATA, buffer: encodeMechTypeList(mechs) }, { type: SECBUFFER_TOKEN, buffer: Buffer.alloc(64) }]);
        return encodeNegTokenResp({ mechListMIC: Buffer.from(sig.buffers![1].buffer) });
      },
      dispose: () => deleteSecurityContext(context),
    };
  }

  async function firstToken(): Promise<{ token: string; client: NegotiateClient }> {
    const client = new NegotiateClient({ target: `HTTP/${kdc.hostname}` });
    return { token: b64((await client.step()).token!), client };
  }

  it('a one-leg exchange keeps no state on its connection (nothing continues; per request work stays small)', async () => {
    const a = agent();
    const base = connectionsWithState();
    for (let i = 0; i < 2; i++) {
      const { token, client } = await firstToken();
      client.dispose();
      const r = await send(port, a, `Negotiate ${token}`);
      expect(r.status, r.body).to.equal(200);
      expect(connectionsWithState(), 'the open keep-alive connection holds no state').to.equal(base);
    }
    a.destroy();
  });

  it('an HTTP/1.0 keep-alive client keeps its connection through the 401: our answers carry Content-Length', async () => {
    const s = connect(port, '127.0.0.1');
    await once(s, 'connect');
    let text = '';
    s.setEncoding('latin1');
    s.on('data', (d: string) => (text += d));
    const answer = async () => {
      for (let i = 0; i < 250 && !/\r\n\r\n/.test(text); i++) await new Promise((r) => setTimeout(r, 20));
      const head = text.slice(0, text.indexOf('\r\n\r\n'));
      const length = Number(/^content-length: *(\d+)/im.exec(head)?.[1] ?? NaN);
      for (let i = 0; i < 250 && text.length < head.length + 4 + length; i++) await new Promise((r) => setTimeout(r, 20));
      const all = text;
      text = '';
      return { head, length, body: all.slice(head.length + 4) };
    };
    s.write('GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
    const challenge = await answer();
    expect(challenge.head).to.match(/^HTTP\/1\.1 401 /);
    expect(challenge.head).to.match(/^www-authenticate: Negotiate\r?$/im);
    expect(challenge.length, 'the 401 says its length').to.equal(Buffer.byteLength(challenge.body));
    expect(challenge.head, 'kept alive').to.match(/^connection: keep-alive/im);
    const { token, client } = await firstToken();
    client.dispose();
    s.write(`GET / HTTP/1.0\r\nConnection: keep-alive\r\nAuthorization: Negotiate ${token}\r\n\r\n`);
    for (let i = 0; i < 250 && !text.includes('principal'); i++) await new Promise((r) => setTimeout(r, 20));
    expect(text, 'the token on the same connection').to.match(/^HTTP\/1\.1 200 /);
    expect(text).to.include(kdc.principals.alice.name);
    s.destroy();
  });

  it('a three-leg exchange continues on its connection: 401, 401, then 200 with accept-completed', async () => {
    const a = agent();
    const c = await threeLegClient();
    const base = connectionsWithState();
    const r1 = await send(port, a, `Negotiate ${b64(c.leg1)}`);
    expect(r1.status).to.equal(401);
    expect(decodeNegToken(serverToken(r1)!).token).to.include({ negState: 'request-mic' });
    expect(connectionsWithState()).to.equal(base + 1);
    const r2 = await send(port, a, `Negotiate ${b64(c.leg2)}`);
    expect(r2.status).to.equal(401);
    expect(r2.port).to.equal(r1.port);
    const r3 = await send(port, a, `Negotiate ${b64(await c.leg3(serverToken(r2)!))}`);
    expect(r3.status, r3.body).to.equal(200);
    expect(r3.port).to.equal(r1.port);
    expect(JSON.parse(r3.body)).to.include({ principal: kdc.principals.alice.name });
    expect(decodeNegToken(serverToken(r3)!).token).to.include({ negState: 'accept-completed' });
    c.dispose();
    a.destroy();
    for (let i = 0; i < 50 && connectionsWithState() > base; i++) await new Promise((r) => setTimeout(r, 20));
    expect(connectionsWithState(), 'the state is dropped when the connection closes').to.equal(base);
  });

  it('a continuation token on another connection never reaches the state: a fresh challenge there, and the first connection goes on', async () => {
    const a = agent();
    const b = agent();
    const c = await threeLegClient();
    const r1 = await send(port, a, `Negotiate ${b64(c.leg1)}`);
    expect(r1.status).to.equal(401);
    const before = errors.length;
    const stolen = await send(port, b, `Negotiate ${b64(c.leg2)}`);
    expect(stolen.port).to.not.equal(r1.port);
    expect(stolen.status).to.equal(401);
    expect(stolen.headers['www-authenticate']).to.equal('Negotiate');
    expect(errors.slice(before).map((e) => e.reason)).to.deep.equal(['rejected']);
    const r2 = await send(port, a, `Negotiate ${b64(c.leg2)}`);
    expect(r2.status).to.equal(401);
    const r3 = await send(port, a, `Negotiate ${b64(await c.leg3(serverToken(r2)!))}`);
    expect(r3.status).to.equal(200);
    c.dispose();
  });

  it('re-authentication on the same connection: a new first token completes again, also over a pending exchange', async () => {
    const a = agent();
    for (let i = 0; i < 2; i++) {
      const { token, client } = await firstToken();
      const r = await send(port, a, `Negotiate ${token}`);
      expect(r.status).to.equal(200);
      await client.step(serverToken(r)!);
      expect(client.done).to.equal(true);
      client.dispose();
    }
    const c = await threeLegClient();
    expect((await send(port, a, `Negotiate ${b64(c.leg1)}`)).status).to.equal(401);
    const { token, client } = await firstToken();
    const r = await send(port, a, `Negotiate ${token}`);
    expect(r.status).to.equal(200);
    client.dispose();
    c.dispose();
  });

  it('a request without Authorization is challenged again on an authenticated connection (per request by default)', async () => {
    const a = agent();
    const { token, client } = await firstToken();
    expect((await send(port, a, `Negotiate ${token}`)).status).to.equal(200);
    const r = await send(port, a);
    expect(r.status).to.equal(401);
    expect(r.headers['www-authenticate']).to.equal('Negotiate');
    client.dispose();
  });

  it('perConnection: later requests of the connection pass as the same principal; another connection is challenged', async () => {
    const a = agent();
    const { token, client } = await firstToken();
    expect((await send(perConnPort, a, `Negotiate ${token}`)).status).to.equal(200);
    const again = await send(perConnPort, a);
    expect(again.status).to.equal(200);
    expect(JSON.parse(again.body)).to.deep.equal({ principal: kdc.principals.alice.name, reused: true });
    expect((await send(perConnPort, agent())).status).to.equal(401);
    client.dispose();
  });

  it('malformed headers get 400; another scheme gets 401 with the challenge; a refused token 401 with a fresh challenge', async () => {
    const a = agent();
    const cases: Array<[string, number]> = [
      ['Negotiate', 400],
      ['Negotiate    ', 400],
      ['Negotiate !!!!', 400],
      ['Negotiate YII= YII=', 400],
      ['Negotiate Y', 400],
      [`Negotiate ${'A'.repeat(100_000)}`, 400],
      ['Basic YWxpY2U6c2VjcmV0', 401],
      ['NTLM TlRMTVNTUAABAAAAB4IIAAAAAAAAAAAAAAAAAAAAAAA=', 401],
      [`Negotiate ${b64(Buffer.from('not a token at all'))}`, 401],
      ['Negotiate YIIBAAYGKwYBBQUCoA==', 401],
    ];
    for (const [header, status] of cases) {
      const before = errors.length;
      const r = await send(port, a, header);
      expect(r.status, header.slice(0, 40)).to.equal(status);
      if (status === 401) expect(r.headers['www-authenticate']).to.equal('Negotiate');
      for (const e of errors.slice(before)) {
        expect(e.status).to.equal(status);
        const text = JSON.stringify(e);
        const value = header.split(' ')[1] ?? '';
        if (value.length > 8) expect(text, 'the hook never carries the token').to.not.include(value.slice(0, 16));
      }
    }
    expect(errors.some((e) => e.statusName === 'SEC_E_INVALID_TOKEN' && typeof e.major === 'number')).to.equal(true);
  });

  it('a server whose keytab is missing answers 500 (its own trouble), and the hook says SEC_E_NO_CREDENTIALS', async () => {
    const events: NegotiateErrorEvent[] = [];
    const broken = negotiate({ keytab: '/nonexistent/http.keytab', onError: (e) => void events.push(e) });
    const s = createServer((req, res) => void broken(req, res, () => res.end('in')));
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    try {
      const { token, client } = await firstToken();
      const r = await send((s.address() as AddressInfo).port, agent(), `Negotiate ${token}`);
      expect(r.status).to.equal(500);
      expect(events.map((e) => [e.status, e.reason, e.statusName])).to.deep.equal([[500, 'server', 'SEC_E_NO_CREDENTIALS']]);
      client.dispose();
    } finally {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
      broken.close();
    }
  });

  /** A server with negotiate(options) for the length of `body`. */
  async function withServer(options: Parameters<typeof negotiate>[0], body: (port: number) => Promise<void>): Promise<void> {
    const h = negotiate(options);
    const s = createServer((req, res) => void h(req, res, () => res.end((req as NegotiateRequest).negotiate!.principal)));
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    try {
      await body((s.address() as AddressInfo).port);
    } finally {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
      h.close();
    }
  }

  it('a keytab missing at the first request and put in place later: 500, then 200 (a failed acquisition is not kept)', async () => {
    // Fails on the old code: the failed handle was cached for the handler's life (401 ever after).
    const events: NegotiateErrorEvent[] = [];
    const dir = mkdtempSync(join(tmpdir(), 'kn-late-keytab-'));
    const keytab = join(dir, 'http.keytab');
    try {
      await withServer({ keytab, onError: (e) => void events.push(e) }, async (p) => {
        const first = await firstToken();
        expect((await send(p, agent(), `Negotiate ${first.token}`)).status).to.equal(500);
        first.client.dispose();
        copyFileSync(kdc.principals.http.keytab!, keytab);
        const second = await firstToken();
        const r = await send(p, agent(), `Negotiate ${second.token}`);
        expect(r.status, r.body).to.equal(200);
        expect(r.body).to.equal(kdc.principals.alice.name);
        second.client.dispose();
      });
      expect(events.map((e) => [e.status, e.reason, e.statusName])).to.deep.equal([[500, 'server', 'SEC_E_NO_CREDENTIALS']]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a keytab without the key of the principal asked for: 500 and onError (the server\'s misconfiguration), not 401', async () => {
    // Fails on the old code: the keytab is readable, so the failure was taken for the client's (401).
    const events: NegotiateErrorEvent[] = [];
    await withServer({ keytab: kdc.principals.http.keytab!, principal: `HTTP/nokey.invalid@${kdc.realm}`, onError: (e) => void events.push(e) }, async (p) => {
      for (let i = 0; i < 2; i++) {
        const { token, client } = await firstToken();
        const r = await send(p, agent(), `Negotiate ${token}`);
        expect(r.status, r.body).to.equal(500);
        expect(r.headers['www-authenticate']).to.equal(undefined);
        client.dispose();
      }
    });
    expect(events.map((e) => [e.status, e.reason])).to.deep.equal([[500, 'server'], [500, 'server']]);
    expect(events[0].statusName).to.match(/^SEC_E_/);
  });

  it('a route that throws after negotiate() under plain node:http: 500 and onError, no unhandled rejection, the server stays up', async () => {
    const events: NegotiateErrorEvent[] = [];
    const h = negotiate({ keytab: kdc.principals.http.keytab!, onError: (e) => void events.push(e), onAuthenticated: () => { throw new Error('hook'); } });
    const s = createServer((req, res) => void h(req, res, () => { throw new Error('route'); }));
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    try {
      const p = (s.address() as AddressInfo).port;
      for (let i = 0; i < 2; i++) {
        const { token, client } = await firstToken();
        expect((await send(p, agent(), `Negotiate ${token}`)).status).to.equal(500);
        client.dispose();
      }
      expect(events.map((e) => [e.status, e.reason])).to.deep.equal([[500, 'server'], [500, 'server']]);
    } finally {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
      h.close();
    }
  });

  it('hostile input: 300 mutated and random tokens, 100 half-finished exchanges dropped mid-way, raw garbage: the server stays up and frees every connection state', async () => {
    // Earlier tests' keep-alive connections closed first, so that their states do not go away during this test and
    // hide one of this test's.
    for (const earlier of agents.splice(0)) earlier.destroy();
    for (let i = 0; i < 100 && connectionsWithState() > 0; i++) await new Promise((r) => setTimeout(r, 20));
    const base = connectionsWithState();
    const rng = mulberry32(4559);
    const { token, client } = await firstToken();
    client.dispose();
    const real = Buffer.from(token, 'base64');
    const a = agent();
    // Used once first: a mutation that leaves the authenticator intact is then a replay, refused.
    expect((await send(port, a, `Negotiate ${token}`)).status).to.equal(200);
    const heapBefore = process.memoryUsage().heapUsed;
    for (let i = 0; i < 300; i++) {
      const body = i % 3 === 0 ? Buffer.from(Array.from({ length: 1 + Math.floor(rng() * 4000) }, () => Math.floor(rng() * 256))) : mutate(real, rng);
      const r = await send(port, a, `Negotiate ${b64(body)}`);
      expect([400, 401], `case ${i}: ${JSON.stringify(errors.slice(-1))}`).to.include(r.status);
    }
    // Half-finished multi-leg exchanges, each on its own connection, dropped after the first leg.
    const c = await threeLegClient();
    await Promise.all(Array.from({ length: 100 }, async () => {
      const one = new Agent({ keepAlive: true, maxSockets: 1 });
      const r = await send(port, one, `Negotiate ${b64(c.leg1)}`);
      expect(r.status).to.equal(401);
      one.destroy();
    }));
    c.dispose();
    // Raw sockets: a request cut in the middle of its Authorization header, and bytes that are not HTTP.
    for (const raw of ['GET / HTTP/1.1\r\nHost: x\r\nAuthorization: Negotiate YII', '\x16\x03\x01garbage\r\n\r\n']) {
      const s = connect(port, '127.0.0.1');
      await once(s, 'connect');
      s.end(raw);
      s.resume();
      await once(s, 'close');
    }
    for (let i = 0; i < 100 && connectionsWithState() > base + 1; i++) await new Promise((r) => setTimeout(r, 20));
    a.destroy();
    for (let i = 0; i < 100 && connectionsWithState() > base; i++) await new Promise((r) => setTimeout(r, 20));
    expect(connectionsWithState(), 'every connection state is freed').to.equal(base);
    globalThis.gc?.();
    const grown = process.memoryUsage().heapUsed - heapBefore;
    expect(grown, `heap grew by ${grown} bytes`).to.be.below(64 * 1024 * 1024);
    const { token: t2, client: c2 } = await firstToken();
    expect((await send(port, agent(), `Negotiate ${t2}`)).status, 'still serving').to.equal(200);
    c2.dispose();
  });
});
