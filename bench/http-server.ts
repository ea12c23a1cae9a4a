// The http-server scenario (issue 19), for bench/run.ts and on its own (npm run bench:http-server [-- --json]
// [-- --requests N] [-- --inflight N] [-- --warmup N]): authenticated requests per second and p50/p99 latency through the HTTP
// acceptor (negotiate() on node:http, a trivial handler) and through Apache mod_auth_gssapi (test/harness/apache.ts,
// a static file) on the same machine, with the same keytab, keep-alive and not. The load comes from ApacheBench
// (`ab`), a process of its own, so that the latency is the server's and not a client sharing its event loop. Every
// request carries the same Negotiate token (made beforehand by our initiator): there is no replay cache on either
// side (KRB5RCACHETYPE=none), as in `npm run bench`, and each request is a full accept. Apache runs with as many
// prefork workers as there are requests in flight (its test configuration keeps 16).
import { execFile } from 'node:child_process';
import { cpus } from 'node:os';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { ISC_REQ_MUTUAL_AUTH, acquireCredentialsHandle, deleteSecurityContext, freeCredentialsHandle, initializeSecurityContext, negotiate, type NegotiateRequest } from '../lib/index.js';
import { APACHE_MISSING, apacheAvailable, startApache, type Apache } from '../test/harness/apache.js';
import { startKdc, type Kdc } from '../test/harness/kdc.js';

const run = promisify(execFile);

export interface HttpServerResult {
  target: 'ours' | 'apache';
  keepAlive: boolean;
  requests: number;
  inflight: number;
  rps: number;
  p50: number;
  p99: number;
  /** Server CPU (user + system, all its threads or processes) per request, in ms. */
  cpuMsPerRequest: number | null;
  failures: number;
  /** Requests ab sent on a connection kept alive (its "Keep-Alive requests"): all of them with keep-alive on. */
  keptAlive: number;
}

/** The CPU seconds (utime + stime) of every process in `pgid`'s process group (Apache's prefork children). */
function groupCpuSeconds(pgid: number): number {
  const tick = 100;
  let total = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid) total += (Number(fields[11]) + Number(fields[12])) / tick;
    } catch {
      // gone meanwhile
    }
  }
  return total;
}

async function ab(port: number, host: string, path: string, token: string, requests: number, inflight: number, keepAlive: boolean) {
  const csv = join(mkdtempSync(join(tmpdir(), 'kn-ab-')), 'p.csv');
  const args = ['-q', '-n', String(requests), '-c', String(inflight), '-e', csv, '-H', `Authorization: Negotiate ${token}`, '-H', `Host: ${host}:${port}`];
  if (keepAlive) args.push('-k');
  const { stdout } = await run('ab', [...args, `http://127.0.0.1:${port}${path}`], { maxBuffer: 1 << 20 });
  const field = (re: RegExp) => Number(re.exec(stdout)?.[1] ?? NaN);
  const percent = new Map(readFileSync(csv, 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').map(Number) as [number, number]));
  return {
    rps: Math.round(field(/Requests per second:\s+([\d.]+)/)),
    failures: field(/Failed requests:\s+(\d+)/) + (field(/Non-2xx responses:\s+(\d+)/) || 0),
    keptAlive: field(/Keep-Alive requests:\s+(\d+)/) || 0,
    p50: percent.get(50) ?? NaN,
    p99: percent.get(99) ?? NaN,
  };
}

export function abAvailable(): boolean {
  try {
    return !!readFileSync('/usr/bin/ab');
  } catch {
    return false;
  }
}

/** ours and Apache (when given), keep-alive on then off, `requests` each with `inflight` in flight, after `warmup` in that mode. */
export async function httpServerScenario(kdc: Kdc, apache: Apache | undefined, requests: number, inflight: number, warmup = 3000): Promise<HttpServerResult[]> {
  const credential = await acquireCredentialsHandle();
  const first = await initializeSecurityContext({ credential, targetName: `HTTP/${kdc.hostname}`, contextReq: ISC_REQ_MUTUAL_AUTH });
  const token = Buffer.from(first.output[0].buffer).toString('base64');
  deleteSecurityContext(first.context!);
  freeCredentialsHandle(credential);

  const auth = negotiate({ keytab: kdc.principals.http.keytab! });
  // The handler sets Content-Length, as Express's res.send does: ab speaks HTTP/1.0, and Node keeps an HTTP/1.0
  // connection alive only for a response of known length (otherwise it answers Connection: close, and the keep-alive
  // rows would measure a new connection per request, closed by the server).
  const server = createServer((req, res) => void auth(req, res, () => {
    const body = `${(req as NegotiateRequest).negotiate!.principal}\n`;
    res.setHeader('Content-Length', Buffer.byteLength(body));
    res.end(body);
  }));
  server.keepAliveTimeout = 10_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const ours = (server.address() as AddressInfo).port;
  const results: HttpServerResult[] = [];
  try {
    for (const keepAlive of [true, false]) {
      // Warm-up in the mode about to be measured, for both servers: the acceptor's credential, Apache's children, and
      // V8's optimizing compiler, which after a 300-request warm-up still took 13.6% of our process's CPU samples
      // during the measured 5,000 (perf), and 2.9% after 5,000: a long-running server is past that.
      await ab(ours, kdc.hostname, '/', token, warmup, inflight, keepAlive);
      if (apache) await ab(apache.httpPort, kdc.hostname, '/private/hello.txt', token, warmup, inflight, keepAlive);
      const c0 = process.cpuUsage();
      const o = await ab(ours, kdc.hostname, '/', token, requests, inflight, keepAlive);
      const c = process.cpuUsage(c0);
      results.push({ target: 'ours', keepAlive, requests, inflight, ...o, cpuMsPerRequest: (c.user + c.system) / 1000 / requests });
      if (apache) {
        const a0 = groupCpuSeconds(apache.pid);
        const a = await ab(apache.httpPort, kdc.hostname, '/private/hello.txt', token, requests, inflight, keepAlive);
        results.push({ target: 'apache', keepAlive, requests, inflight, ...a, cpuMsPerRequest: ((groupCpuSeconds(apache.pid) - a0) * 1000) / requests });
      }
    }
  } finally {
    server.closeAllConnections();
    server.close();
    auth.close();
  }
  return results;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { json: { type: 'boolean', default: false }, requests: { type: 'string' }, inflight: { type: 'string' }, warmup: { type: 'string' } } });
  const log = (line: string) => (values.json ? process.stderr.write(`${line}\n`) : console.log(line));
  process.env.KRB5RCACHETYPE = 'none';
  const kdc = await startKdc();
  kdc.applyEnv();
  await kdc.kinit(kdc.principals.alice.name, { password: kdc.principals.alice.password, ccache: kdc.env.KRB5CCNAME });
  const inflight = Number(values.inflight ?? 50);
  let apache: Apache | undefined;
  if (apacheAvailable()) apache = await startApache(kdc, { workers: inflight });
  else log(`Apache skipped: ${APACHE_MISSING}`);
  let results: HttpServerResult[];
  try {
    if (!abAvailable()) throw new Error('ab (ApacheBench, apache2-utils) is missing');
    results = await httpServerScenario(kdc, apache, Number(values.requests ?? 5000), inflight, Number(values.warmup ?? 3000));
  } finally {
    await apache?.stop();
    await kdc.stop();
  }
  for (const r of results) {
    log(`${r.target.padEnd(7)} keep-alive ${r.keepAlive ? 'on ' : 'off'}  ${String(r.rps).padStart(6)} req/s  p50 ${r.p50} ms  p99 ${r.p99} ms  cpu ${r.cpuMsPerRequest?.toFixed(3)} ms/req  (${r.requests} requests, ${r.inflight} in flight, ${r.failures} failed, ${r.keptAlive} kept alive)`);
  }
  if (values.json) console.log(JSON.stringify({ node: process.version, cores: cpus().length, results }));
  process.exit(results.some((r) => r.failures > 0) ? 1 : 0);
}
