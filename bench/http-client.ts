// The http-client scenario of bench/run.ts (issue 20): authenticated GETs of a static file behind Apache
// mod_auth_gssapi (test/harness/apache.ts, /private/hello.txt), one at a time, from one process each:
// - ours: negotiateFetch, as an application calls it (no credential given: the process's shared default one), its
//   connections kept across calls (lib/client/http/pool.ts) and, the origin being known after the first call, the
//   token sent with the first request (known-origins.ts: one request per GET); keep-alive off: `Connection: close`,
//   a new connection per call, as curl's. `oursChallenged`: the same with `preemptive: false`, 401 first as curl;
// - curl: `curl --negotiate`, all the URLs in one invocation, each transfer's time_total (-w), so that process start
//   is not counted; keep-alive on: one connection reused; off: `Connection: close`, a new connection per URL;
// - kerberos: the `kerberos` add-on's client (initializeClient + step) and a plain node:http request carrying its
//   token (preemptive: one request per GET), keep-alive agent or not.
// curl answers the 401 first (two requests per GET on one connection).
// Milliseconds per GET; the test host names resolve nowhere, so every client is pointed at 127.0.0.1.
import { execFileSync } from 'node:child_process';
import { Agent, request } from 'node:http';
import type { LookupFunction } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { negotiateFetch } from '../lib/index.js';
import { kerberosAddon, type KerberosAddon } from '../test/harness/acceptor.js';
import { startApache, type Apache } from '../test/harness/apache.js';
import { startKdc, type Kdc } from '../test/harness/kdc.js';

const lookup = ((_host: string, options: { all?: boolean }, cb: (...args: unknown[]) => void) => {
  if (options?.all) cb(null, [{ address: '127.0.0.1', family: 4 }]);
  else cb(null, '127.0.0.1', 4);
}) as unknown as LookupFunction;

export interface HttpClientFigures { keepAlive: boolean; ours: number[]; oursChallenged: number[]; curl: number[]; kerberos: number[] }

async function oursGet(url: string, keepAlive: boolean, preemptive?: boolean): Promise<number> {
  const t = performance.now();
  const res = await negotiateFetch(url, { headers: keepAlive ? {} : { connection: 'close' }, negotiate: { connect: { lookup }, preemptive } });
  await res.arrayBuffer();
  if (res.status !== 200 || !res.negotiate.mutual) throw new Error(`negotiateFetch: ${res.status}`);
  return performance.now() - t;
}

function curlGets(url: string, host: string, port: number, n: number, keepAlive: boolean): number[] {
  const args = ['-s', '--negotiate', '-u', ':', '--resolve', `${host}:${port}:127.0.0.1`, '-w', '%{http_code} %{time_total}\\n'];
  if (!keepAlive) args.push('-H', 'Connection: close');
  const out = execFileSync('curl', [...args, ...Array.from({ length: n }, () => [url, '-o', '/dev/null']).flat()], { encoding: 'utf8', env: process.env });
  return out.trim().split('\n').map((line) => {
    const [code, seconds] = line.split(' ');
    if (code !== '200') throw new Error(`curl: ${code}`);
    return Number(seconds) * 1000;
  });
}

async function kerberosGet(kerberos: KerberosAddon, host: string, port: number, path: string, agent: Agent): Promise<number> {
  const t = performance.now();
  const client = await kerberos.initializeClient(`HTTP@${host}`, { mechOID: kerberos.GSS_MECH_OID_SPNEGO, gssFlag: kerberos.GSS_C_MUTUAL_FLAG } as never);
  const token = await client.step('');
  const status = await new Promise<number>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent, headers: { host: `${host}:${port}`, authorization: `Negotiate ${token}` } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
  if (status !== 200) throw new Error(`kerberos + node:http: ${status}`);
  return performance.now() - t;
}

/** Per keep-alive setting, `rounds` rounds of `batch` GETs each, interleaved: ours, curl, kerberos, ours (401 first), ours, ... */
export async function httpClientScenario(kdc: Kdc, apache: Apache, kerberos: KerberosAddon, rounds: number, batch: number, order: boolean[] = [true, false]): Promise<HttpClientFigures[]> {
  const host = kdc.hostname;
  const port = apache.httpPort;
  const path = '/private/hello.txt';
  const url = `http://${host}:${port}${path}`;
  const figures: HttpClientFigures[] = [];
  for (const keepAlive of order) {
    const f: HttpClientFigures = { keepAlive, ours: [], oursChallenged: [], curl: [], kerberos: [] };
    const agent = new Agent({ keepAlive, maxSockets: 1 });
    // 100 each: with 10, ours's first row was still warming up (its JavaScript tiering up), and the first row of a
    // run, whichever setting, came out 1.4-2 × the second (docs/performance.md).
    for (let i = 0; i < 100; i++) {
      await oursGet(url, keepAlive);
      await oursGet(url, keepAlive, false);
      await kerberosGet(kerberos, host, port, path, agent);
    }
    curlGets(url, host, port, 10, keepAlive);
    for (let round = 0; round < rounds; round++) {
      for (let i = 0; i < batch; i++) f.ours.push(await oursGet(url, keepAlive));
      f.curl.push(...curlGets(url, host, port, batch, keepAlive));
      for (let i = 0; i < batch; i++) f.kerberos.push(await kerberosGet(kerberos, host, port, path, agent));
      for (let i = 0; i < batch; i++) f.oursChallenged.push(await oursGet(url, keepAlive, false));
    }
    agent.destroy();
    figures.push(f);
  }
  return figures;
}

// Alone: `node --import tsx bench/http-client.ts [--rounds 7] [--batch 100] [--off-first]`: the KDC, alice's ticket and Apache
// (50 workers, as bench/run.ts starts it), then the scenario; medians (p10-p90) in ms per GET.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  // --off-first: the keep-alive-off row first (the row order is part of what a run measures: warm-up, the load).
  const { values } = parseArgs({ options: { rounds: { type: 'string' }, batch: { type: 'string' }, json: { type: 'boolean', default: false }, 'off-first': { type: 'boolean', default: false } } });
  process.env.KRB5RCACHETYPE = 'none';
  const kdc = await startKdc();
  let figures: HttpClientFigures[];
  try {
    kdc.applyEnv();
    await kdc.kinit(kdc.principals.alice.name, { password: kdc.principals.alice.password, ccache: kdc.env.KRB5CCNAME });
    const apache = await startApache(kdc, { workers: 50 });
    try {
      figures = await httpClientScenario(kdc, apache, kerberosAddon(), Number(values.rounds ?? 7), Number(values.batch ?? 100), values['off-first'] ? [false, true] : [true, false]);
    } finally {
      await apache.stop();
    }
  } finally {
    await kdc.stop();
  }
  const q = (a: number[], p: number) => [...a].sort((x, y) => x - y)[Math.min(a.length - 1, Math.floor(p * a.length))];
  const show = (a: number[]) => `${q(a, 0.5).toFixed(3)} (${q(a, 0.1).toFixed(2)}-${q(a, 0.9).toFixed(2)})`;
  for (const f of figures) {
    const line = `keep-alive ${f.keepAlive ? 'on ' : 'off'}  curl ${show(f.curl)}  kerberos ${show(f.kerberos)}  ours ${show(f.ours)}  ours 401-first ${show(f.oursChallenged)}  ours/curl ${(q(f.ours, 0.5) / q(f.curl, 0.5)).toFixed(2)}`;
    console.log(line);
  }
  if (values.json) console.log(JSON.stringify(figures.map((f) => ({ keepAlive: f.keepAlive, curl: q(f.curl, 0.5), kerberos: q(f.kerberos, 0.5), ours: q(f.ours, 0.5), oursChallenged: q(f.oursChallenged, 0.5) }))));
}
