// The HTTP acceptor in real frameworks (Express 5 with negotiate() itself, Fastify 5 and Koa 3 through their adapters,
// from the test-peers workspace), authenticated by curl --negotiate, python requests-kerberos (mutual authentication
// required: it checks our final token) and our negotiateFetch: 401 without Authorization, 200 with the principal and
// the final token.
import { expect } from 'chai';
import { execFile, spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { promisify } from 'node:util';
import { negotiate, negotiateFastify, negotiateFetch, negotiateKoa, type NegotiateIdentity, type NegotiateRequest } from '../../lib/index.js';
import { kdcWithAlice, type Kdc } from '../harness/kdc.js';
import { SYSTEM_PYTHON } from '../harness/python-acceptor.js';
import { needs } from '../harness/skip.js';
import { loopbackLookup as lookup } from '../harness/loopback.js';

const exec = promisify(execFile);
const RK_CLIENT = fileURLToPath(new URL('../harness/requests_kerberos_client.py', import.meta.url));
const requestsKerberos = spawnSync(SYSTEM_PYTHON, ['-c', 'import requests_kerberos']).status === 0;

async function load<T>(name: string): Promise<T | undefined> {
  try {
    return (await import(name)) as T;
  } catch {
    return undefined;
  }
}

describe('HTTP acceptor in frameworks: Express 5, Fastify 5 and Koa 3', function () {
  this.timeout(60_000);
  let kdc: Kdc;
  let curlHasGss = false;
  const ports: Record<string, number> = {};
  const closers: Array<() => Promise<void> | void> = [];

  before(async () => {
    kdc = await kdcWithAlice();
    curlHasGss = await exec('curl', ['-V']).then(({ stdout }) => /\bSPNEGO\b/.test(stdout), () => false);
    const keytab = kdc.principals.http.keytab!;

    // Express 5 takes negotiate() itself: it is a (req, res, next) middleware.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- loaded only when installed
    type ExpressModule = { default: () => any };
    const expressMod = await load<ExpressModule>('express');
    if (expressMod) {
      const app = expressMod.default();
      const middleware = negotiate({ keytab });
      app.use(middleware);
      app.get('/', (req: NegotiateRequest, res: { json(body: unknown): void }) => {
        res.json({ framework: 'express', principal: req.negotiate!.principal, mutual: req.negotiate!.mutual });
      });
      const server = createServer(app);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      ports.express = (server.address() as AddressInfo).port;
      closers.push(async () => {
        server.closeAllConnections();
        await new Promise((r) => server.close(r));
        middleware.close();
      });
    }

    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- loaded only when installed; the adapter's own types are structural
    type FastifyModule = { default: (opts?: object) => any };
    const fastifyMod = await load<FastifyModule>('fastify');
    if (fastifyMod) {
      const app = fastifyMod.default();
      const hook = negotiateFastify({ keytab });
      app.decorateRequest('negotiate', null);
      app.addHook('onRequest', hook);
      app.get('/', async (request: { negotiate: NegotiateIdentity }) => ({ framework: 'fastify', principal: request.negotiate.principal, mutual: request.negotiate.mutual }));
      await app.listen({ port: 0, host: '127.0.0.1' });
      ports.fastify = (app.server.address() as AddressInfo).port;
      closers.push(async () => { await app.close(); hook.close(); });
    }

    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- as above
    type KoaModule = { default: new () => any };
    const koaMod = await load<KoaModule>('koa');
    if (koaMod) {
      const app = new koaMod.default();
      const middleware = negotiateKoa({ keytab });
      app.use(middleware);
      app.use((ctx: { body: unknown; state: { negotiate: NegotiateIdentity } }) => {
        ctx.body = { framework: 'koa', principal: ctx.state.negotiate.principal, mutual: ctx.state.negotiate.mutual };
      });
      const server: Server = await new Promise((resolve) => { const s = app.listen(0, '127.0.0.1', () => resolve(s)); });
      ports.koa = (server.address() as AddressInfo).port;
      closers.push(async () => {
        server.closeAllConnections();
        await new Promise((r) => server.close(r));
        middleware.close();
      });
    }
  });

  after(async () => {
    for (const close of closers) await close();
  });

  for (const framework of ['express', 'fastify', 'koa']) {
    describe(framework, () => {
      it('no Authorization: 401 WWW-Authenticate: Negotiate', async function () {
        needs(this, ports[framework] !== undefined, `${framework} is not installed (npm ci installs test/peers)`);
        const { stdout } = await exec('curl', ['-sS', '-i', `http://127.0.0.1:${ports[framework]}/`]);
        expect(stdout).to.match(/^HTTP\/1\.1 401/).and.match(/^WWW-Authenticate: Negotiate\r?$/im);
      });

      it('curl --negotiate: 200 as alice, with the final token', async function () {
        needs(this, ports[framework] !== undefined, `${framework} is not installed (npm ci installs test/peers)`);
        needs(this, curlHasGss, 'curl has no GSS-API/SPNEGO support');
        const port = ports[framework];
        const { stdout } = await exec('curl', ['-sS', '-i', '--negotiate', '-u', ':', '--resolve', `${kdc.hostname}:${port}:127.0.0.1`, `http://${kdc.hostname}:${port}/`], {
          env: { ...process.env, KRB5_CONFIG: kdc.env.KRB5_CONFIG, KRB5CCNAME: kdc.env.KRB5CCNAME },
        });
        const [head, body] = stdout.split('\r\n\r\n');
        expect(head).to.match(/^HTTP\/1\.1 200/).and.match(/WWW-Authenticate: Negotiate [A-Za-z0-9+/]+=*/i);
        expect(JSON.parse(body)).to.deep.equal({ framework, principal: kdc.principals.alice.name, mutual: true });
      });

      it('python requests-kerberos (mutual authentication REQUIRED): 200 as alice, our final token accepted', async function () {
        needs(this, ports[framework] !== undefined, `${framework} is not installed (npm ci installs test/peers)`);
        needs(this, requestsKerberos, 'python3-requests-kerberos is not installed');
        const { stdout } = await exec(SYSTEM_PYTHON, [RK_CLIENT, `http://${kdc.hostname}:${ports[framework]}/`], {
          env: { ...process.env, KRB5_CONFIG: kdc.env.KRB5_CONFIG, KRB5CCNAME: kdc.env.KRB5CCNAME }, timeout: 30_000,
        });
        const r = JSON.parse(stdout.trim().split('\n').pop()!) as { status?: number; body?: string; error?: string };
        expect(r.error, r.error).to.equal(undefined);
        expect(r.status).to.equal(200);
        expect(JSON.parse(r.body!)).to.deep.equal({ framework, principal: kdc.principals.alice.name, mutual: true });
      });

      it('negotiateFetch: 200 with mutual authentication verified', async function () {
        needs(this, ports[framework] !== undefined, `${framework} is not installed (npm ci installs test/peers)`);
        const res = await negotiateFetch(`http://${kdc.hostname}:${ports[framework]}/`, { negotiate: { connect: { lookup } } });
        expect(res.status).to.equal(200);
        expect(res.negotiate).to.include({ authenticated: true, mutual: true });
        expect(await res.json()).to.include({ framework, principal: kdc.principals.alice.name });
      });
    });
  }
});
