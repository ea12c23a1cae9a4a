// A probe of koffi's call costs (not part of `npm run bench`): the event-loop thread's CPU per call, sync and async,
// with gss_init_sec_context's prototype bound to a trivial libc function (getpid ignores the arguments), one at a
// time and 10 or 20 in flight. RESIDENT=n sets koffi's resident async memories first (ffi/async-memory.ts):
//   RESIDENT=8 node --import tsx bench/koffi-probe.ts; RESIDENT=32 node --import tsx bench/koffi-probe.ts
import koffi from 'koffi';
import { createRequire } from 'node:module';
if (process.env.RESIDENT) koffi.config({ resident_async_pools: Number(process.env.RESIDENT) });
await import('../ffi/gssapi.js');
const require = createRequire(import.meta.url);
const lib = koffi.load('libc.so.6');
const proto = (name: string) => `uint32_t ${name}(_Out_ uint32_t *minor, void *cred, _Inout_ void **ctx, void *target, void *mech, uint32_t req_flags, uint32_t time_req, gss_channel_bindings_struct *cb, gss_buffer_desc *input, _Out_ void **actual_mech, _Out_ gss_buffer_desc *output, _Out_ uint32_t *ret_flags, _Out_ uint32_t *time_rec)`;
const f = lib.func(proto('getpid'));
const g = lib.func('int getpid()');
const sched = () => (require('node:fs').readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8') as string).split(' ').map(Number);
const input = Buffer.alloc(600);
const args = () => [[0], 1n, [null], 2n, 3n, 0x32, 0, null, { length: input.length, value: input }, [null], { length: 0, value: null }, [0], [0]];
const N = Number(process.env.N ?? 5000);
async function run(label: string, body: () => Promise<void> | void) {
  for (let i = 0; i < 2000; i++) await body();
  const s0 = sched(); const c0 = process.cpuUsage(); const t = performance.now();
  for (let i = 0; i < N; i++) await body();
  const s1 = sched(); const c1 = process.cpuUsage(c0);
  console.log(label.padEnd(30), 'wall µs', ((performance.now() - t) * 1000 / N).toFixed(1), 'loop cpu µs', ((s1[0] - s0[0]) / 1000 / N).toFixed(1), 'proc cpu µs', ((c1.user + c1.system) / N).toFixed(1));
}
for (let rep = 0; rep < 2; rep++) {
await run('sync gss proto', () => { f(...args()); });
await run('sync getpid()', () => { g(); });
await run('async gss proto', () => new Promise<void>((res, rej) => f.async(...args(), (e: unknown) => (e ? rej(e) : res()))));
await run('async getpid()', () => new Promise<void>((res, rej) => g.async((e: unknown) => (e ? rej(e) : res()))));
await run('async gss proto x20 parallel', () => Promise.all(Array.from({ length: 20 }, () => new Promise<void>((res, rej) => f.async(...args(), (e: unknown) => (e ? rej(e) : res()))))).then(() => undefined));
await run('async gss proto x10 parallel', () => Promise.all(Array.from({ length: 10 }, () => new Promise<void>((res, rej) => f.async(...args(), (e: unknown) => (e ? rej(e) : res()))))).then(() => undefined));
}
