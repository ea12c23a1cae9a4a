// npm run bench:http-server [-- --json] [-- --requests N] [-- --inflight N]
// Authenticated requests per second and p50/p99 latency through the HTTP acceptor (negotiate() on node:http) and
// through Apache mod_auth_gssapi on the same machine, with the same keytab, a trivial handler, the same client load
// (node:http, N requests in flight), with keep-alive and without. Each request carries its own Negotiate token,
// made beforehand by our initiator (the client's cost is not counted); no replay cache on either side
// (KRB5RCACHETYPE=none), as in `npm run bench`.
import { createServer, request, Agent } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { ISC_REQ_MUTUAL_AUTH, acquireCredentialsHandle, deleteSecurityContext, freeCredentialsHandle, initializeSecurityContext, negotiate, type NegotiateRequest } from '../lib/index.js';
import { APACHE_MISSING, apacheAvailable, startApache } from '../test/harness/apache.js';
import { startKdc } from '../test/harness/kdc.js';

const { values } = parseArgs({ options: { json: { type: 'boolean', default: false }, requests: { type: 'string' }, inflight: { type: 'string' } } });
const N = Number(values.requests ?? 2000);
const INFLIGHT = Number(values.inflight ?? 50);
const log = (line: string) => (values.json ? process.stderr.write(`${line}\n`) : console.log(line));

process.env.KRB5RCACHETYPE = 'none';
const kdc = await startKdc();
kdc.applyEnv();
await kdc.kinit(kdc.principals.alice.name, { password: kdc.principals.alice.password, ccache: kdc.env.KRB5CCNAME });

async function tokens(count: number): Promise<string[]> {
  const credential = await acquireCredentialsHandle();
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const r = await initializeSecurityContext({ credential, targetName: `HTTP/${kdc.hostname}`, contextReq: ISC_REQ_MUTUAL_AUTH });
    out.push(Buffer.from(r.output[0].buffer).toString('base64'));
    deleteSecurityContext(r.context!);
  }
  freeCredentialsHandle(credential);
  return out;
}

interface Result { target: string; keepAlive: boolean; requests: number; inflight: number; rps: number; p50: number; p99: number; failures: number }

async function load(target: string, port: number, path: string, keepAlive: boolean): Promise<Result> {
  const toks = await tokens(N);
  const agent = new Agent({ keepAlive, maxSockets: INFLIGHT });
  const latencies: number[] = [];
  let failures = 0;
  let next = 0;
  const one = (token: string) => new Promise<void>((resolve) => {
    const t0 = performance.now();
    const req = request({ host: '127.0.0.1', port, path, agent, headers: { host: `${kdc.hostname}:${port}`, authorization: `Negotiate ${token}` } }, (res) => {
      res.resume();
      res.on('end', () => {
        latencies.push(performance.now() - t0);
        if (res.statusCode !== 200) failures++;
        resolve();
      });
    });
    req.on('error', () => {
      failures++;
      resolve();
    });
    req.end();
  });
  const started = performance.now();
  await Promise.all(Array.from({ length: INFLIGHT }, async () => {
    while (next < toks.length) await one(toks[next++]);
  }));
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => Number(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))].toFixed(2));
  return { target, keepAlive, requests: N, inflight: INFLIGHT, rps: Math.round(N / seconds), p50: at(0.5), p99: at(0.99), failures };
}

const results: Result[] = [];
const auth = negotiate({ keytab: kdc.principals.http.keytab! });
const server = createServer((req, res) => void auth(req, res, () => res.end(`${(req as NegotiateRequest).negotiate!.principal}\n`)));
server.keepAliveTimeout = 10_000;
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const ours = (server.address() as AddressInfo).port;
let apache: Awaited<ReturnType<typeof startApache>> | undefined;
if (apacheAvailable()) apache = await startApache(kdc);
else log(`Apache skipped: ${APACHE_MISSING}`);
try {
  for (const keepAlive of [true, false]) {
    results.push(await load('kerberos-negotiate (node:http)', ours, '/', keepAlive));
    if (apache) results.push(await load('Apache mod_auth_gssapi', apache.httpPort, '/private/hello.txt', keepAlive));
  }
} finally {
  server.closeAllConnections();
  server.close();
  auth.close();
  await apache?.stop();
  await kdc.stop();
}
for (const r of results) {
  log(`${r.target.padEnd(32)} keep-alive ${r.keepAlive ? 'on ' : 'off'}  ${String(r.rps).padStart(6)} req/s  p50 ${r.p50} ms  p99 ${r.p99} ms  (${r.requests} requests, ${r.inflight} in flight, ${r.failures} failed)`);
}
if (values.json) console.log(JSON.stringify({ node: process.version, cores: (await import('node:os')).cpus().length, results }));
process.exit(results.some((r) => r.failures > 0) ? 1 : 0);
