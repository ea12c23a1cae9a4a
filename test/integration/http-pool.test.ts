// Connections kept across calls (lib/client/http/pool.ts) and the token sent with the first request to an origin
// that asked for Negotiate and proved itself before (known-origins.ts), against the real Apache mod_auth_gssapi and
// the real KDC. Connections are counted where Apache sees them: a TCP relay in front of it counts the connections it
// accepts and, per connection, the requests that go up and the X-Remote-User values that come back.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  HttpNegotiateError,
  acquireCredentialsHandle,
  freeCredentialsHandle,
  negotiateFetch,
  withNegotiate,
  type CredentialsHandle,
  type NegotiateHttpOptions,
} from '../../lib/index.js';
import { forgetAll } from '../../lib/client/http/known-origins.js';
import { closeIdleConnections, idleConnections } from '../../lib/client/http/pool.js';
import { realmSuite } from '../harness/realm-suite.js';
import { loadUndici, undiciPackage, undiciVersion } from '../harness/undici.js';
import { loopbackLookup as lookup } from '../harness/loopback.js';


interface Seen { requests: number; users: Set<string>; authorizations: number }

/** A TCP relay to `port` that counts connections, and per connection the requests and X-Remote-User values. */
async function countingRelay(port: number) {
  const connections: Seen[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const seen: Seen = { requests: 0, users: new Set(), authorizations: 0 };
    connections.push(seen);
    const upstream = net.connect(port, '127.0.0.1');
    sockets.add(client).add(upstream);
    client.on('data', (d: Buffer) => {
      const text = d.toString('latin1');
      seen.requests += text.match(/^(GET|POST|HEAD) /gm)?.length ?? 0;
      seen.authorizations += text.match(/^authorization: Negotiate /gim)?.length ?? 0;
      upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => {
      for (const m of d.toString('latin1').matchAll(/^X-Remote-User: (\S+)/gim)) seen.users.add(m[1]);
      client.write(d);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    connections,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

describe('HTTP Negotiate: connections kept across calls, and the token sent at once to a known origin', function () {
  this.timeout(60_000);
  const realm = realmSuite({ apache: 'required' });
  let relay: Awaited<ReturnType<typeof countingRelay>>;
  let url: string;
  const base: NegotiateHttpOptions = { connect: { lookup } };
  const alice = () => realm.kdc.principals.alice.name;

  beforeEach(async () => {
    closeIdleConnections();
    forgetAll();
    relay = await countingRelay(realm.apache.httpPort);
    url = `http://${realm.host}:${relay.port}/private/hello.txt`;
  });
  afterEach(() => {
    closeIdleConnections();
    relay.close();
  });

  async function get(options: NegotiateHttpOptions = base, headers?: Record<string, string>) {
    const res = await negotiateFetch(url, { headers, negotiate: options });
    expect(await res.text()).to.equal('hello, private\n');
    expect(res.status).to.equal(200);
    return res;
  }

  it('six GETs use one connection: the first answers the 401, the five others carry their token at once (one request each), every answer\'s final token verified', async () => {
    const legs: number[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await get();
      expect(res.negotiate).to.include({ authenticated: true, mutual: true, client: alice() });
      legs.push(res.negotiate.legs);
    }
    expect(legs).to.deep.equal([2, 1, 1, 1, 1, 1]);
    expect(relay.connections.length, 'connections Apache saw').to.equal(1);
    expect(relay.connections[0]).to.deep.include({ requests: 7, authorizations: 6 });
    expect(idleConnections()).to.equal(1);
  });

  it('preemptive: false answers a 401 on every call, each on a connection that never carried a token (a server keeping authentication per connection would take a tokenless request on an authenticated one for its earlier client); Connection: close gets a new connection per call', async () => {
    for (let i = 0; i < 3; i++) expect((await get({ ...base, preemptive: false })).negotiate).to.include({ legs: 2, mutual: true });
    expect(relay.connections.map((c) => c.requests)).to.deep.equal([2, 2, 2]);
    expect(idleConnections(), 'an authenticated connection no call of these options could take is closed, not kept').to.equal(0);
    for (let i = 0; i < 3; i++) await get(base, { connection: 'close' });
    // The first: its 401 closes the connection, its token goes on a second; the origin known, one each after.
    expect(relay.connections.length).to.equal(7);
    expect(idleConnections()).to.equal(0);
  });

  it('https: calls share one TLS connection, each token bound to its certificate (tls-server-end-point)', async () => {
    const tlsRelay = await countingRelay(realm.apache.httpsPort);
    try {
      const target = `https://${realm.host}:${tlsRelay.port}/private/hello.txt`;
      const legs: number[] = [];
      for (let i = 0; i < 3; i++) {
        const res = await negotiateFetch(target, { negotiate: { connect: { lookup, ca: realm.apache.certPem } } });
        expect(await res.text()).to.equal('hello, private\n');
        expect(res.negotiate).to.include({ mutual: true, channelBindings: true });
        legs.push(res.negotiate.legs);
      }
      expect(legs).to.deep.equal([2, 1, 1]);
      expect(tlsRelay.connections.length).to.equal(1);
    } finally {
      closeIdleConnections();
      tlsRelay.close();
    }
  });

  it('a connection authenticated for one credential never carries another\'s requests (nor another delegation policy\'s)', async () => {
    const ccache = `FILE:${join(realm.kdc.dir, 'pool-bob')}`;
    await realm.kdc.kinit(realm.kdc.principals.bob.name, { password: realm.kdc.principals.bob.password, ccache });
    const bob: CredentialsHandle = await acquireCredentialsHandle({ ccache });
    try {
      for (let i = 0; i < 3; i++) {
        expect((await get()).headers.get('x-remote-user')).to.equal(alice());
        expect((await get({ ...base, credential: bob })).headers.get('x-remote-user')).to.equal(realm.kdc.principals.bob.name);
      }
      expect(relay.connections.length, 'one connection per credential').to.equal(2);
      for (const c of relay.connections) expect(c.users.size, 'one client per connection').to.equal(1);
      await get({ ...base, delegate: 'policy' });
      expect(relay.connections.length, 'another delegation policy: another connection').to.equal(3);
    } finally {
      freeCredentialsHandle(bob);
    }
  });

  it('a kinit as another user into the default cache: the next call authenticates as that user, and the connections kept for the earlier one are closed', async () => {
    // Two connections kept for alice (two calls at once), then bob's ticket in the same default cache.
    await Promise.all([get(), get()]);
    expect(idleConnections()).to.equal(2);
    const { kdc } = realm;
    try {
      await kdc.kinit(kdc.principals.bob.name, { password: kdc.principals.bob.password, ccache: kdc.env.KRB5CCNAME });
      const res = await get();
      expect(res.headers.get('x-remote-user')).to.equal(kdc.principals.bob.name);
      expect(res.negotiate.client).to.equal(kdc.principals.bob.name);
      expect(idleConnections(), 'alice\'s other kept connection closed').to.equal(1);
      expect((await get()).headers.get('x-remote-user')).to.equal(kdc.principals.bob.name);
      const users = relay.connections.filter((c) => c.users.size > 0).map((c) => [...c.users].join(','));
      expect(users.filter((u) => u.includes(',')), 'a connection that carried both: only the one that moved to bob with its own token').to.have.length.at.most(1);
    } finally {
      await kdc.kinit(kdc.principals.alice.name, { password: kdc.principals.alice.password, ccache: kdc.env.KRB5CCNAME });
    }
  });

  it('a server that keeps authentication per connection (GssapiConnectionBound): after a kinit as another user into the default cache, a call that waits for the 401 is never taken for the earlier user on the earlier user\'s kept connection', async () => {
    const bound = `http://${realm.host}:${relay.port}/bound/hello.txt`;
    const call = async (options: NegotiateHttpOptions) => {
      const res = await negotiateFetch(bound, { negotiate: options });
      expect(await res.text()).to.equal('hello, private\n');
      return res;
    };
    const { kdc } = realm;
    for (const options of [{ ...base, preemptive: false }, { ...base, mutual: 'none' as const }]) {
      closeIdleConnections();
      forgetAll();
      expect((await call(options)).headers.get('x-remote-user')).to.equal(alice());
      try {
        await kdc.kinit(kdc.principals.bob.name, { password: kdc.principals.bob.password, ccache: kdc.env.KRB5CCNAME });
        const res = await call(options);
        expect(res.headers.get('x-remote-user'), `${JSON.stringify(options.preemptive ?? options.mutual)}: served as`).to.not.equal(alice());
        expect(res.negotiate.client).to.equal(kdc.principals.bob.name);
        expect(res.negotiate.legs, 'neither option ever makes the origin known (mutual: \'none\' proves nothing)').to.equal(2);
      } finally {
        await kdc.kinit(kdc.principals.alice.name, { password: kdc.principals.alice.password, ccache: kdc.env.KRB5CCNAME });
      }
    }
  });

  it('a known origin that redirects: the token sent at once never follows to another port or to a URL with userinfo, in either redirect mode', async () => {
    // Another origin on the same host (another port), recording what it is sent.
    const authorizations: Array<string | undefined> = [];
    const other = http.createServer((req, res) => {
      authorizations.push(req.headers.authorization);
      res.end('other');
    });
    other.listen(0, '127.0.0.1');
    await once(other, 'listening');
    const otherPort = (other.address() as net.AddressInfo).port;
    // In front of the counting relay: /go?to=URL answers 302 to URL (after reading the request, token and all).
    const tokensAtFront: boolean[] = [];
    const keep = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const front = http.createServer((req, res) => {
      const to = new URL(req.url!, 'http://x').searchParams.get('to');
      if (to) {
        tokensAtFront.push(req.headers.authorization !== undefined);
        res.writeHead(302, { location: to }).end();
        return;
      }
      const up = http.request({ host: '127.0.0.1', port: relay.port, method: req.method, path: req.url, headers: req.headers, agent: keep }, (ur) => {
        res.writeHead(ur.statusCode!, ur.headers);
        ur.pipe(res);
      });
      req.pipe(up);
    });
    front.listen(0, '127.0.0.1');
    await once(front, 'listening');
    const origin = `http://${realm.host}:${(front.address() as net.AddressInfo).port}`;
    try {
      const first = await negotiateFetch(`${origin}/private/hello.txt`, { negotiate: base });
      await first.text();
      expect(first.negotiate).to.include({ mutual: true, legs: 2 });
      const targets = [`http://${realm.host}:${otherPort}/x`, `http://user:pw@${realm.host}:${otherPort}/x`, `http://127.0.0.1:${otherPort}/x`];
      for (const to of targets) {
        const res = await negotiateFetch(`${origin}/go?to=${encodeURIComponent(to)}`, { negotiate: base });
        expect(await res.text()).to.equal('other');
        expect(res.negotiate).to.include({ authenticated: false });
        const manual = await negotiateFetch(`${origin}/go?to=${encodeURIComponent(to)}`, { redirect: 'manual', negotiate: base });
        expect(manual.status).to.equal(302);
        await manual.text();
      }
      expect(tokensAtFront, 'the known origin got its token at once each time').to.deep.equal([true, true, true, true, true, true]);
      expect(authorizations, 'the other origin never got one').to.deep.equal([undefined, undefined, undefined]);
    } finally {
      keep.destroy();
      front.closeAllConnections();
      front.close();
      other.closeAllConnections();
      other.close();
    }
  });

  it('a body aborted mid-way closes its connection (never kept); a body not yet read keeps its connection out of the pool, and the next call takes another', async () => {
    const connections: net.Socket[] = [];
    const big = Buffer.alloc(4 << 20, 'x');
    const server = http.createServer((req, res) => {
      res.writeHead(200, { 'content-length': String(big.length) });
      res.end(big);
    });
    // The aborted call resets its connection under the server's write.
    server.on('connection', (s: net.Socket) => connections.push(s.on('error', () => undefined)));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const plain = `http://${realm.host}:${(server.address() as net.AddressInfo).port}/`;
    try {
      const abort = new AbortController();
      const aborted = await negotiateFetch(plain, { signal: abort.signal, negotiate: base });
      const reader = aborted.body!.getReader();
      await reader.read();
      abort.abort();
      await reader.read().catch(() => undefined);
      if (!connections[0].destroyed) await new Promise((resolve) => connections[0].once('close', resolve));
      expect(idleConnections(), 'an aborted body\'s connection is not kept').to.equal(0);
      const unread = await negotiateFetch(plain, { negotiate: base });
      const next = await negotiateFetch(plain, { negotiate: base });
      expect((await next.arrayBuffer()).byteLength).to.equal(big.length);
      expect(connections.length, 'the unread answer\'s connection was not given to the next call').to.equal(3);
      expect(idleConnections()).to.equal(1);
      expect((await unread.arrayBuffer()).byteLength).to.equal(big.length);
      expect(idleConnections()).to.equal(2);
      const last = await negotiateFetch(plain, { negotiate: base });
      await last.arrayBuffer();
      expect(connections.length, 'a kept connection serves the next call').to.equal(3);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('every answer to a token sent at once is verified: a stripped final token leaves the answer unauthenticated (as the same answer without a challenge would be); a replayed one fails (MUTUAL_AUTH_FAILED), its connection closed, never reused, the origin forgotten', async () => {
    // An HTTP relay in front of the counting one, rewriting WWW-Authenticate on non-401 answers on demand.
    let rewrite: ((v: string | undefined) => string | undefined) | undefined;
    let firstFinal: string | undefined;
    const keep = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const mitm = http.createServer((req, res) => {
      const up = http.request({ host: '127.0.0.1', port: relay.port, method: req.method, path: req.url, headers: req.headers, agent: keep }, (ur) => {
        const headers = { ...ur.headers };
        if (ur.statusCode !== 401) {
          firstFinal ??= headers['www-authenticate'] as string;
          const v = rewrite ? rewrite(headers['www-authenticate'] as string | undefined) : headers['www-authenticate'];
          if (v === undefined) delete headers['www-authenticate'];
          else headers['www-authenticate'] = v;
        }
        res.writeHead(ur.statusCode!, headers);
        ur.pipe(res);
      });
      req.pipe(up);
    });
    const clientConnections: net.Socket[] = [];
    mitm.on('connection', (s: net.Socket) => clientConnections.push(s));
    mitm.listen(0, '127.0.0.1');
    await once(mitm, 'listening');
    const target = `http://${realm.host}:${(mitm.address() as net.AddressInfo).port}/private/hello.txt`;
    try {
      const first = await negotiateFetch(target, { negotiate: base });
      await first.text();
      expect(first.negotiate).to.include({ legs: 2, mutual: true });
      rewrite = () => undefined;
      const stripped = await negotiateFetch(target, { negotiate: base });
      expect(await stripped.text()).to.equal('hello, private\n');
      expect(stripped.negotiate, 'never reported as authenticated').to.include({ authenticated: false, mutual: false, legs: 1 });
      // The first exchange's AP-REP, answered to a later exchange's token: it belongs to another context.
      rewrite = () => firstFinal;
      const err = await negotiateFetch(target, { negotiate: base }).then(() => undefined, (e: unknown) => e);
      expect(err).to.be.instanceOf(HttpNegotiateError);
      expect((err as HttpNegotiateError).code).to.equal('MUTUAL_AUTH_FAILED');
      expect(clientConnections.length).to.equal(1);
      if (!clientConnections[0].destroyed) await once(clientConnections[0], 'close');
      rewrite = undefined;
      const again = await negotiateFetch(target, { negotiate: base });
      await again.text();
      expect(again.negotiate, 'the failed origin forgotten: 401 first again').to.include({ authenticated: true, mutual: true, legs: 2 });
      expect(clientConnections.length, 'a new connection after the failure').to.equal(2);
    } finally {
      keep.destroy();
      mitm.closeAllConnections();
      mitm.close();
    }
  });

  it('Node\'s fetch through NegotiateDispatcher keeps the connection too, in the handler form this Node\'s undici speaks', async () => {
    const legs: number[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await fetch(url, { ...withNegotiate({ ...base, onAuthenticated: (info) => legs.push(info.legs) }) });
      expect(await res.text()).to.equal('hello, private\n');
    }
    expect(legs).to.deep.equal([2, 1, 1]);
    expect(relay.connections.length).to.equal(1);
  });

  it(`the ${undiciPackage} package (${undiciVersion}) used directly: fetch and request() through the dispatcher share the kept connection`, async () => {
    const undici = await loadUndici();
    const dispatcher = withNegotiate(base).dispatcher as unknown as import('undici').Dispatcher;
    const res = await undici.fetch(url, { dispatcher });
    expect(await res.text()).to.equal('hello, private\n');
    const r = await undici.request(url, { dispatcher });
    expect(await r.body.text()).to.equal('hello, private\n');
    expect(r.statusCode).to.equal(200);
    expect(relay.connections.length).to.equal(1);
    expect(relay.connections[0]).to.deep.include({ requests: 3, authorizations: 2 });
  });

  it('a kept connection the server drops as the next request goes out: an idempotent request goes again on a new connection, a POST fails', async () => {
    // No authentication here: a server that answers the first request of each connection and resets the second.
    const server = http.createServer((req, res) => {
      const s = req.socket as net.Socket & { served?: number };
      s.served = (s.served ?? 0) + 1;
      if (s.served > 1) return void s.resetAndDestroy();
      req.resume();
      res.end('ok');
    });
    let connections = 0;
    server.on('connection', () => connections++);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const origin = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    try {
      for (let i = 0; i < 3; i++) expect(await (await negotiateFetch(`${origin}/`, { negotiate: base })).text()).to.equal('ok');
      expect(connections, 'each reset connection replaced once').to.equal(3);
      const err = await negotiateFetch(`${origin}/`, { method: 'POST', body: 'x', negotiate: base }).then(() => undefined, (e: unknown) => e);
      expect((err as NodeJS.ErrnoException)?.code).to.equal('ECONNRESET');
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('the process exits while a kept connection is idle (the pool never keeps it alive), well before the server\'s keep-alive timeout', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kn-pool-'));
    const lib = fileURLToPath(new URL('../../lib/index.ts', import.meta.url));
    const pool = fileURLToPath(new URL('../../lib/client/http/pool.ts', import.meta.url));
    const script = join(dir, 'child.mts');
    writeFileSync(script, `
      import { negotiateFetch } from ${JSON.stringify(lib)};
      import { idleConnections } from ${JSON.stringify(pool)};
      const lookup = (_h, o, cb) => (o?.all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4));
      const res = await negotiateFetch(${JSON.stringify(url)}, { negotiate: { connect: { lookup } } });
      await res.text();
      await new Promise((r) => setImmediate(r));
      process.stdout.write(JSON.stringify({ status: res.status, mutual: res.negotiate.mutual, idle: idleConnections(), at: Date.now() }));
    `);
    try {
      const child = spawn(process.execPath, ['--import', 'tsx', script], { env: { ...process.env, ...realm.kdc.env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (err += d));
      const [code] = (await once(child, 'exit')) as [number];
      const exitedAt = Date.now();
      expect(code, err).to.equal(0);
      const report = JSON.parse(out) as { status: number; mutual: boolean; idle: number; at: number };
      expect(report).to.include({ status: 200, mutual: true, idle: 1 });
      // Apache keeps an idle connection 5 s (its KeepAliveTimeout); the child was gone long before.
      expect(exitedAt - report.at, 'ms from the answer to the exit').to.be.below(2_000);
      expect(relay.connections.length).to.equal(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
