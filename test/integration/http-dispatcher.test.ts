// NegotiateDispatcher's plumbing against a plain local HTTP server (no challenge, so no Kerberos): both handler
// forms undici has used (the controller form of undici 8, the legacy form of undici 6 and 7), backpressure, abort,
// duplicate headers, request bodies; through Node's own fetch and through the `undici` package used directly. The
// Negotiate exchanges themselves are in http.test.ts.
import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { NegotiateDispatcher } from '../../lib/index.js';
import type { DispatchController } from '../../lib/client/http/dispatcher.js';
import { loadUndici, undiciPackage, undiciVersion } from '../harness/undici.js';

const BIG = randomBytes(4 * 1024 * 1024);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('NegotiateDispatcher plumbing (a local server that asks for no authentication)', function () {
  this.timeout(30_000);
  let server: http.Server;
  let origin: string;
  const closed: string[] = [];

  before(async () => {
    server = http.createServer((req, res) => {
      if (req.url === '/big' || req.url === '/abort') {
        res.on('close', () => closed.push(req.url!));
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'set-cookie': ['a=1', 'b=2'] });
        if (req.url === '/big') res.end(BIG);
        else res.write(BIG.subarray(0, 256 * 1024)); // never ended: only an abort finishes it
        return;
      }
      const parts: Buffer[] = [];
      req.on('data', (c: Buffer) => parts.push(c));
      req.on('end', () => {
        res.writeHead(201, 'Made', { 'x-method': req.method!, 'x-seen': String(req.headers['x-test']) });
        res.end(Buffer.concat(parts));
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.closeAllConnections?.() ?? server.close());

  /** Calls the dispatcher with a hand-made handler of one form; resolves with the callbacks seen. */
  function record(form: 'controller' | 'legacy', path: string, opts: { pauseFirst?: boolean } = {}) {
    const calls: string[] = [];
    const chunks: Buffer[] = [];
    let raw: Buffer[] | null = null;
    return new Promise<{ calls: string[]; body: Buffer; raw: Buffer[] | null; status: number; headers: unknown }>((resolve, reject) => {
      let status = 0;
      let headers: unknown;
      const finish = () => resolve({ calls, body: Buffer.concat(chunks), raw, status, headers });
      const handler = form === 'controller'
        ? {
            onRequestStart: () => calls.push('onRequestStart'),
            onResponseStart: (c: DispatchController, s: number, h: unknown, text?: string) => {
              calls.push(`onResponseStart ${s} ${text}`);
              status = s;
              headers = h;
              raw = c.rawHeaders;
              if (opts.pauseFirst) {
                c.pause();
                const before = chunks.length;
                setTimeout(() => {
                  calls.push(`paused 100 ms: ${chunks.length - before} chunks`);
                  c.resume();
                }, 100);
              }
            },
            onResponseData: (_c: DispatchController, chunk: Buffer) => void chunks.push(chunk),
            onResponseEnd: () => { calls.push('onResponseEnd'); finish(); },
            onResponseError: (_c: DispatchController, err: Error) => reject(err),
          }
        : {
            onConnect: () => calls.push('onConnect'),
            onHeaders: (s: number, r: Buffer[], resume: () => void, text: string) => {
              calls.push(`onHeaders ${s} ${text}`);
              status = s;
              raw = r;
              if (!opts.pauseFirst) return true;
              const before = chunks.length;
              setTimeout(() => {
                calls.push(`paused 100 ms: ${chunks.length - before} chunks`);
                resume();
              }, 100);
              return false;
            },
            onData: (chunk: Buffer) => { chunks.push(chunk); return true; },
            onComplete: () => { calls.push('onComplete'); finish(); },
            onError: (err: Error) => reject(err),
          };
      expect(new NegotiateDispatcher().dispatch({ origin, path, method: 'GET', headers: null }, handler)).to.equal(true);
    });
  }

  it('speaks undici 8\'s controller form to a handler that has onRequestStart, with pause()/resume() holding the body back', async () => {
    const r = await record('controller', '/big', { pauseFirst: true });
    expect(r.calls).to.deep.equal(['onRequestStart', 'onResponseStart 200 OK', 'paused 100 ms: 0 chunks', 'onResponseEnd']);
    expect(sha(r.body)).to.equal(sha(BIG));
    expect((r.headers as Record<string, unknown>)['set-cookie']).to.deep.equal(['a=1', 'b=2']);
    expect(r.raw!.map((b) => b.toString('latin1'))).to.include.members(['set-cookie', 'a=1', 'b=2']);
  });

  it('speaks the legacy form (the fetch of Node 20, 22, 24) to a handler without it, onHeaders returning false holding the body back', async () => {
    const r = await record('legacy', '/big', { pauseFirst: true });
    expect(r.calls).to.deep.equal(['onConnect', 'onHeaders 200 OK', 'paused 100 ms: 0 chunks', 'onComplete']);
    expect(sha(r.body)).to.equal(sha(BIG));
    expect(r.raw!.map((b) => b.toString('latin1'))).to.include.members(['set-cookie', 'a=1', 'b=2']);
  });

  it(`Node ${process.versions.node}'s own fetch (undici ${process.versions.undici}): a 4 MiB body, duplicate headers, a POST body, an abort mid-body`, async () => {
    const dispatcher = new NegotiateDispatcher();
    const init = { dispatcher } as unknown as RequestInit;
    const res = await fetch(`${origin}/big`, init);
    expect(res.headers.getSetCookie()).to.deep.equal(['a=1', 'b=2']);
    expect(sha(Buffer.from(await res.arrayBuffer()))).to.equal(sha(BIG));

    const posted = await fetch(`${origin}/echo`, { ...init, method: 'PUT', body: 'sent by fetch', headers: { 'x-test': 'yes' } });
    expect([posted.status, posted.statusText, posted.headers.get('x-method'), posted.headers.get('x-seen')]).to.deep.equal([201, 'Made', 'PUT', 'yes']);
    expect(await posted.text()).to.equal('sent by fetch');

    const ac = new AbortController();
    const partial = await fetch(`${origin}/abort`, { ...init, signal: ac.signal });
    const reader = partial.body!.getReader();
    expect((await reader.read()).done).to.equal(false);
    closed.length = 0;
    ac.abort();
    const err = await reader.read().then(() => undefined, (e: Error) => e);
    expect(err?.name).to.equal('AbortError');
    for (let i = 0; i < 50 && !closed.includes('/abort'); i++) await new Promise((r) => setTimeout(r, 20));
    expect(closed).to.include('/abort');
  });

  it(`the ${undiciPackage} package (${undiciVersion}) used directly: its fetch and request() through the dispatcher`, async () => {
    const undici = await loadUndici();
    const dispatcher = new NegotiateDispatcher() as unknown as import('undici').Dispatcher;
    const res = await undici.fetch(`${origin}/big`, { dispatcher });
    expect(res.headers.getSetCookie()).to.deep.equal(['a=1', 'b=2']);
    expect(sha(Buffer.from(await res.arrayBuffer()))).to.equal(sha(BIG));

    const posted = await undici.fetch(`${origin}/echo`, { dispatcher, method: 'POST', body: 'sent by undici', headers: { 'x-test': 'u' } });
    expect([posted.status, posted.headers.get('x-seen')]).to.deep.equal([201, 'u']);
    expect(await posted.text()).to.equal('sent by undici');

    const r = await undici.request(`${origin}/echo`, { dispatcher, method: 'POST', body: 'via request()' });
    expect([r.statusCode, r.headers['x-method']]).to.deep.equal([201, 'POST']);
    expect(await r.body.text()).to.equal('via request()');

    const ac = new AbortController();
    const partial = await undici.fetch(`${origin}/abort`, { dispatcher, signal: ac.signal });
    const reader = partial.body!.getReader();
    expect((await reader.read()).done).to.equal(false);
    ac.abort();
    const err = await reader.read().then(() => undefined, (e: Error) => e);
    expect(err?.name).to.equal('AbortError');
  });
});
