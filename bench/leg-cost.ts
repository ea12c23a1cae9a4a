// A probe of the JavaScript work per establishment on the event loop (not part of `npm run bench`), for A/B work
// where wall time is too noisy to see a few microseconds: establishments one at a time (ours, or the `kerberos`
// add-on as initiator; its server as acceptor for both, as in bench/run.ts), counting per establishment the
// promises created (async_hooks, exact), the bytes allocated on the JavaScript heap (heapUsed growth between
// collections, with a young generation large enough that none runs inside a batch: run with
// --max-semi-space-size=64) and the event-loop thread's CPU (Linux schedstat). Env: WHICH=ours,kerberos N=2000.
//   node --expose-gc --max-semi-space-size=64 --import tsx bench/leg-cost.ts
import { createHook } from 'node:async_hooks';
import { readFileSync } from 'node:fs';
import { PerformanceObserver } from 'node:perf_hooks';
import { acquireCredentialsHandle } from '../lib/index.js';
import { kerberosAddon } from '../test/harness/acceptor.js';
import { startKdc } from '../test/harness/kdc.js';
import { kerberosEstablish, oursEstablish } from './establish.js';

kerberosAddon(); // fails here, naming the reason, when the add-on does not load
const which = (process.env.WHICH ?? 'ours,kerberos').split(',');
const n = Number(process.env.N ?? 2000);
process.env.KRB5RCACHETYPE = 'none';
const kdc = await startKdc();
kdc.applyEnv();
await kdc.kinit(kdc.principals.alice.name, { password: kdc.principals.alice.password, ccache: kdc.env.KRB5CCNAME });
const host = kdc.hostname;
const cred = await acquireCredentialsHandle();

const ours = async (): Promise<void> => void (await oursEstablish(cred, `HTTP/${host}`, host));
const addon = async (): Promise<void> => void (await kerberosEstablish(host));
let gcs = 0;
new PerformanceObserver((l) => { gcs += l.getEntries().length; }).observe({ entryTypes: ['gc'] });
const loopCpuNs = () => Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]);
let promises = 0;
const hook = createHook({ init(_id, type) { if (type === 'PROMISE') promises++; } });

for (const w of which) {
  const establish = w === 'ours' ? ours : addon;
  for (let i = 0; i < 300; i++) await establish();
  // Promises, exact (the hook slows everything: counted in a pass of its own).
  hook.enable();
  promises = 0;
  for (let i = 0; i < 100; i++) await establish();
  hook.disable();
  const promisesPer = promises / 100;
  // Bytes allocated: batches of 100 between full collections; a batch in which a GC ran is left out.
  const bytes: number[] = [];
  const cpu: number[] = [];
  for (let b = 0; b < n / 100; b++) {
    (globalThis as { gc?: () => void }).gc?.();
    await new Promise((resolve) => setTimeout(resolve, 5)); // the collection's entry is delivered before the count
    const g = gcs;
    const h = process.memoryUsage().heapUsed;
    const c = loopCpuNs();
    for (let i = 0; i < 100; i++) await establish();
    cpu.push((loopCpuNs() - c) / 100 / 1000);
    if (gcs === g) bytes.push((process.memoryUsage().heapUsed - h) / 100);
  }
  const median = (a: number[]) => (a.length ? [...a].sort((x, y) => x - y)[a.length >> 1] : NaN);
  console.log(JSON.stringify({ w, promisesPer, bytesPer: Math.round(median(bytes)), batchesWithoutGc: bytes.length, loopUsPer: Math.round(median(cpu)), loopUsP10: Math.round([...cpu].sort((x, y) => x - y)[Math.floor(cpu.length / 10)]) }));
}
await kdc.stop();
process.exit(0);
