// The memory scenario of bench/run.ts, in a process of its own so that V8's young generation can be capped
// (node --max-semi-space-size=1): uncapped, V8 grows it under a high allocation rate, reserved and not used, and RSS
// counts it (docs/performance.md, "Memory"). Establishes first legs (Kerberos package, integrity: one native leg on
// the pool each, no acceptor) in a row with the environment's cached ticket, and prints one JSON line: RSS,
// heapTotal, heapUsed and external after 1,000 and at every tenth of N, each after a full GC.
// Usage: node --expose-gc --max-semi-space-size=1 --import tsx bench/memory.ts <N> <target SPN>
import { ISC_REQ_INTEGRITY, acquireCredentialsHandle, deleteSecurityContext, freeCredentialsHandle, initializeSecurityContext } from '../lib/index.js';

const n = Number(process.argv[2]);
const spn = process.argv[3];
if (!Number.isInteger(n) || n < 1000 || !spn) throw new TypeError('usage: memory.ts <N >= 1000> <SPN>');
const gc = globalThis.gc;
if (!gc) throw new Error('run with --expose-gc');

const krb = await acquireCredentialsHandle({ package: 'Kerberos' });
const once = async () => {
  const r = await initializeSecurityContext({ credential: krb, targetName: spn, contextReq: ISC_REQ_INTEGRITY });
  if (!r.context) throw new Error(r.error?.message);
  deleteSecurityContext(r.context);
};
const sample = (at: number) => {
  gc();
  const m = process.memoryUsage();
  return { at, rss: m.rss, heapTotal: m.heapTotal, heapUsed: m.heapUsed, external: m.external };
};
const started = performance.now();
for (let i = 0; i < 1000; i++) await once();
const samples = [sample(1000)];
const step = Math.max(1000, Math.round(n / 10));
for (let done = 1000; done < n;) {
  const until = Math.min(n, done + step);
  for (; done < until; done++) await once();
  samples.push(sample(done));
}
freeCredentialsHandle(krb);
process.stdout.write(`${JSON.stringify({ n, seconds: (performance.now() - started) / 1000, samples })}\n`);
process.exit(0);
