// The http-client scenario of bench/run.ts (issue 20): authenticated GETs of a static file behind Apache
// mod_auth_gssapi (test/harness/apache.ts, /private/hello.txt), one at a time, from one process each:
// - ours: negotiateFetch, as an application calls it (no credential given: the process's shared default one);
// - curl: `curl --negotiate`, all the URLs in one invocation, each transfer's time_total (-w), so that process start
//   is not counted; keep-alive on: one connection reused; off: `Connection: close`, a new connection per URL;
// - kerberos: the `kerberos` add-on's client (initializeClient + step) and a plain node:http request carrying its
//   token (preemptive: one request per GET), keep-alive agent or not.
// negotiateFetch and curl answer the 401 first (two requests per GET on one connection); negotiateFetch gives each
// call its own connection (its private agent), so its keep-alive row is the same flow as its other row.
// Milliseconds per GET; the test host names resolve nowhere, so every client is pointed at 127.0.0.1.
import { execFileSync } from 'node:child_process';
import { Agent, request } from 'node:http';
import type { LookupFunction } from 'node:net';
import { negotiateFetch } from '../lib/index.js';
import type { KerberosAddon } from '../test/harness/acceptor.js';
import type { Apache } from '../test/harness/apache.js';
import type { Kdc } from '../test/harness/kdc.js';

const lookup = ((_host: string, options: { all?: boolean }, cb: (...args: unknown[]) => void) => {
  if (options?.all) cb(null, [{ address: '127.0.0.1', family: 4 }]);
  else cb(null, '127.0.0.1', 4);
}) as unknown as LookupFunction;

export interface HttpClientFigures { keepAlive: boolean; ours: number[]; curl: number[]; kerberos: number[] }

async function oursGet(url: string): Promise<number> {
  const t = performance.now();
  const res = await negotiateFetch(url, { negotiate: { connect: { lookup } } });
  await res.arrayBuffer();
  if (res.status !== 200 || !res.negotiate.authenticated) throw new Error(`negotiateFetch: ${res.status}`);
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

/** Per keep-alive setting, `rounds` rounds of `batch` GETs each, interleaved: ours, curl, kerberos, ours, ... */
export async function httpClientScenario(kdc: Kdc, apache: Apache, kerberos: KerberosAddon, rounds: number, batch: number): Promise<HttpClientFigures[]> {
  const host = kdc.hostname;
  const port = apache.httpPort;
  const path = '/private/hello.txt';
  const url = `http://${host}:${port}${path}`;
  const figures: HttpClientFigures[] = [];
  for (const keepAlive of [true, false]) {
    const f: HttpClientFigures = { keepAlive, ours: [], curl: [], kerberos: [] };
    const agent = new Agent({ keepAlive, maxSockets: 1 });
    for (let i = 0; i < 10; i++) {
      await oursGet(url);
      await kerberosGet(kerberos, host, port, path, agent);
    }
    curlGets(url, host, port, 10, keepAlive);
    for (let round = 0; round < rounds; round++) {
      for (let i = 0; i < batch; i++) f.ours.push(await oursGet(url));
      f.curl.push(...curlGets(url, host, port, batch, keepAlive));
      for (let i = 0; i < batch; i++) f.kerberos.push(await kerberosGet(kerberos, host, port, path, agent));
    }
    agent.destroy();
    figures.push(f);
  }
  return figures;
}
