// A probe for A/B work on throughput (not part of `npm run bench`): establishments per second at N in flight, ours
// or the `kerberos` add-on (the same loops as bench/run.ts), with the process's CPU per establishment, the event-loop
// thread's own CPU and run-queue wait (Linux /proc/<pid>/task/<pid>/schedstat) and GC time. Env: WHICH=ours,kerberos
// LEVELS=10,100,1000 TOTAL=1000 REPS=1 KDCLIMIT=n RESIDENT=n (koffi's resident async memories, set before the
// library's own choice) PROFILE=prefix (a .cpuprofile per run). Example:
//   UV_THREADPOOL_SIZE=24 node --expose-gc --import tsx bench/concurrency.ts
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
import koffi from 'koffi';
if (process.env.RESIDENT) koffi.config({ resident_async_pools: Number(process.env.RESIDENT) });
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { acquireCredentialsHandle, setMaxConcurrentKdcCalls, type CredentialsHandle } from '../lib/index.js';
import { kerberosAddon } from '../test/harness/acceptor.js';
import { startKdc } from '../test/harness/kdc.js';
import { kerberosEstablish, oursEstablish } from './establish.js';

kerberosAddon(); // fails here, naming the reason, when the add-on does not load
const which = (process.env.WHICH ?? 'ours,kerberos').split(',');
const levels = (process.env.LEVELS ?? '10,100,1000').split(',').map(Number);
const total = Number(process.env.TOTAL ?? 1000);
const reps = Number(process.env.REPS ?? 1);
process.env.KRB5RCACHETYPE = 'none';
if (process.env.KDCLIMIT) setMaxConcurrentKdcCalls(Number(process.env.KDCLIMIT));
else setMaxConcurrentKdcCalls(Math.max(1, (Number(process.env.UV_THREADPOOL_SIZE) || 4) - 1));
const kdc = await startKdc();
kdc.applyEnv();
await kdc.kinit(kdc.principals.alice.name, { password: kdc.principals.alice.password, ccache: kdc.env.KRB5CCNAME });
const host = kdc.hostname;
const spn = `HTTP/${host}`;
const cred: CredentialsHandle = await acquireCredentialsHandle();

const ours = async (): Promise<void> => void (await oursEstablish(cred, spn, host));
const addon = async (): Promise<void> => void (await kerberosEstablish(host));
let gcMs = 0; let gcN = 0;
new PerformanceObserver((l) => { for (const e of l.getEntries()) { gcMs += e.duration; gcN++; } }).observe({ entryTypes: ['gc'] });
async function load(inFlight: number, establish: () => Promise<void>) {
  const delay = monitorEventLoopDelay({ resolution: 1 });
  gcMs = 0; gcN = 0;
  delay.enable();
  const cpu0 = process.cpuUsage();
  const sched = () => (require('node:fs').readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8') as string).split(' ').map(Number);
  const s0 = sched();
  const t = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(inFlight, total) }, async () => {
    while (next < total) { next++; await establish(); }
  }));
  const s = (performance.now() - t) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const s1 = sched();
  delay.disable();
  return { perSecond: Math.round(total / s), cpuUsPer: Math.round((cpu.user + cpu.system) / total), loopUsPer: Math.round((s1[0] - s0[0]) / 1000 / total), loopWaitUsPer: Math.round((s1[1] - s0[1]) / 1000 / total), loopBusy: +((s1[0] - s0[0]) / 1e9 / s).toFixed(2), p99: +(delay.percentile(99) / 1e6).toFixed(1), max: +(delay.max / 1e6).toFixed(1), gcMs: +gcMs.toFixed(1), gcN };
}
for (let i = 0; i < 200; i++) { await ours(); await addon(); }
const { Session } = await import('node:inspector/promises');
const session = new Session();
if (process.env.PROFILE) { session.connect(); await session.post('Profiler.enable'); await session.post('Profiler.setSamplingInterval', { interval: 200 }); }
if (process.env.PERF) {
  // perf on this process's event-loop thread only, for PERF seconds from here (after the warm-up).
  (await import('node:child_process')).spawn('perf', ['record', '-e', 'cpu-clock', '-F', '5000', '-g', '-t', String(process.pid), '-o', `${process.env.PERF_OUT ?? 'perf.data'}`, '--', 'sleep', process.env.PERF], { stdio: 'inherit' });
}
for (let r = 0; r < reps; r++) for (const lv of levels) for (const w of which) {
  if (process.env.PROFILE) await session.post('Profiler.start');
  const res = await load(lv, w === 'ours' ? ours : addon);
  if (process.env.PROFILE) {
    const { profile } = await session.post('Profiler.stop');
    (await import('node:fs')).writeFileSync(`${process.env.PROFILE}-${w}-${lv}-${r}.cpuprofile`, JSON.stringify(profile));
  }
  console.log(JSON.stringify({ w, lv, ...res }));
}
await kdc.stop();
process.exit(0);
