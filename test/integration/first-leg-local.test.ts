// A first leg whose service ticket the handle holds runs on the event loop, with a credential over a MEMORY cache of
// service tickets alone (lib/providers/gssapi-tickets.ts, MIT): it cannot reach a KDC, so a KDC that never answers
// does not hold it, and the loop stays free. Without the ticket the leg goes to the pool. The copy follows the
// handle's own cache: kinit as someone else, kdestroy, KRB5CCNAME, an external kinit, a renewal. Heimdal keeps every
// first leg on the pool.
import { expect } from 'chai';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { PerformanceObserver, monitorEventLoopDelay } from 'node:perf_hooks';
import {
  acquireCredentialsHandle, deleteSecurityContext, freeCredentialsHandle, initializeSecurityContext, kdcCallStats,
  setMaxConcurrentKdcCalls, type CredentialsHandle, type InitializeResult, type RenewalEvent,
} from '../../lib/index.js';
import { liveGssCredentials } from '../../lib/providers/gssapi-native.js';
import { localFirstLegs } from '../../lib/providers/gssapi-tickets.js';
import { tgtTimes } from '../../lib/providers/krb5-native.js';
import * as F from '../../lib/vocabulary/flags.js';
import { newAcceptor } from '../harness/acceptor.js';
import { isHeimdal } from '../harness/flavour.js';
import { privateMemoryCaches } from '../harness/memory-caches.js';
import { KERBEROS_ADDON, realmSuite } from '../harness/realm-suite.js';

const REQ = F.ISC_REQ_MUTUAL_AUTH | F.ISC_REQ_INTEGRITY;

/**
 * How long the loop's thread has waited, runnable, for a CPU (ms): Linux's run_delay of the main thread (the second
 * field of /proc/<pid>/task/<tid>/schedstat, the main thread's tid being the pid), or 0 where it cannot be read.
 */
function cpuWaitMs(): number {
  try {
    return Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[1]) / 1e6;
  } catch {
    return 0;
  }
}

/**
 * How late the loop runs a due timer while `work` runs: a chain of 1 ms timers, each one's lateness less the time the
 * OS kept the thread waiting for a CPU meanwhile, those during a GC left out (V8's, counted in docs/performance.md). The machine running the suite is shared (an idle Node process here
 * shows loop delays of 20 ms and more as monitorEventLoopDelay counts them: its thread was not scheduled), so the bound
 * is read from that corrected lateness, whose p99 counts what work on the loop did; monitorEventLoopDelay's maximum
 * proves that nothing waited on a KDC on the loop (MIT's first KDC timeout is 1 s). Its p99 is printed for the record.
 */
async function loopDelay(work: () => Promise<void>): Promise<{ late: { p50: number; p90: number; p99: number; max: number }; gc: number; p99: number; max: number }> {
  globalThis.gc?.();
  const delay = monitorEventLoopDelay({ resolution: 1 });
  const ticks: Array<{ from: number; to: number; late: number }> = [];
  const gcs: Array<{ from: number; to: number }> = [];
  const observer = new PerformanceObserver((list) => list.getEntries().forEach((e) => gcs.push({ from: e.startTime, to: e.startTime + e.duration })));
  observer.observe({ entryTypes: ['gc'] });
  let running = true;
  let at = performance.now();
  let waited = cpuWaitMs();
  const tick = () => {
    const now = performance.now();
    ticks.push({ from: at, to: now, late: Math.max(0, now - at - 1 - (cpuWaitMs() - waited)) });
    at = performance.now();
    waited = cpuWaitMs();
    if (running) setTimeout(tick, 1);
  };
  setTimeout(tick, 1);
  delay.enable();
  try {
    await work();
  } finally {
    delay.disable();
    running = false;
  }
  observer.disconnect();
  const late = ticks.filter((t) => !gcs.some((g) => g.from < t.to && g.to > t.from)).map((t) => t.late).sort((a, b) => a - b);
  const gc = gcs.reduce((longest, g) => Math.max(longest, g.to - g.from), 0);
  return { late: { p50: late[Math.floor(late.length * 0.5)] ?? 0, p90: late[Math.floor(late.length * 0.9)] ?? 0, p99: late[Math.floor(late.length * 0.99)] ?? 0, max: late.at(-1) ?? 0 }, gc, p99: delay.percentile(99) / 1e6, max: delay.max / 1e6 };
}
/**
 * The bound on the loop's delay, read at the p90 of the corrected lateness: what our work adds is one time slice
 * (slice.ts: 2 ms) and the leg under way when it ends; a 1 ms timer's own granularity adds up to 1 ms. Observed here:
 * p50 about 1.2 ms, p99 2.6-5.3 ms (the tail: GC helpers and locks the thread sleeps on).
 */
const LOOP_DELAY_MS = 5;
const NO_KDC_WAIT_MS = 250;

const until = async (what: string, done: () => boolean | Promise<boolean>, ms: number, step = 50) => {
  const deadline = Date.now() + ms;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, step));
  }
};

describe('first leg on the event loop: service tickets in memory (issue 20)', function () {
  this.timeout(120_000);
  /** Whether this library copies service tickets to memory (MIT); Heimdal runs the same scenarios on the pool. */
  const local = !isHeimdal();
  const realm = realmSuite({ needs: [KERBEROS_ADDON] });

  /** A whole exchange with the independent acceptor: who it authenticated, or the first leg's status. */
  async function who(cred: CredentialsHandle, target = realm.spn): Promise<string | undefined> {
    const r = await initializeSecurityContext({ credential: cred, targetName: target, contextReq: REQ });
    if (r.statusName !== 'SEC_I_CONTINUE_NEEDED') return r.statusName;
    const acceptor = await newAcceptor();
    const reply = await acceptor.step(r.output[0].buffer);
    const done = await initializeSecurityContext({ context: r.context, contextReq: REQ, input: [{ type: F.SECBUFFER_TOKEN, buffer: reply }] });
    deleteSecurityContext(r.context!);
    return done.statusName === 'SEC_E_OK' ? acceptor.username : done.statusName;
  }

  /** Whether the next exchange's first leg ran on the loop (and who it authenticated). */
  async function onLoop(cred: CredentialsHandle, target = realm.spn): Promise<[string | undefined, boolean]> {
    const before = localFirstLegs();
    const user = await who(cred, target);
    const after = localFirstLegs();
    return [user, after.tried - before.tried === 1 && after.missed === before.missed];
  }

  /**
   * The realm's KDC replaced by one that never answers: the KDC is stopped and its port taken, over UDP and TCP, by
   * sockets that read and say nothing. Gives back a function that ends it and starts the KDC again.
   */
  async function silence(): Promise<() => Promise<void>> {
    await realm.kdc.pause();
    const udp: UdpSocket = createSocket('udp4');
    await new Promise<void>((resolve) => udp.bind(realm.kdc.port, '127.0.0.1', resolve));
    const held: Socket[] = [];
    const tcp: Server = createServer((s) => {
      held.push(s);
      s.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => tcp.listen(realm.kdc.port, '127.0.0.1', resolve));
    return async () => {
      held.forEach((s) => s.destroy());
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
      await new Promise<void>((resolve) => udp.close(resolve));
      await realm.kdc.resume();
    };
  }

  it('a cached ticket and a KDC that never answers: first legs complete on the loop while the only KDC slot waits on that KDC, and the loop stays under 5 ms (Heimdal: on the pool, the slot free)', async () => {
    const cred = await acquireCredentialsHandle();
    const previous = setMaxConcurrentKdcCalls(1);
    let restore: (() => Promise<void>) | undefined;
    let waiting: Promise<InitializeResult> | undefined;
    try {
      // The service ticket into the default cache (a pool leg: the KDC answers), then copied at the next leg.
      expect(await who(cred)).to.equal(realm.kdc.principals.alice.name);
      restore = await silence();
      // A leg that needs the KDC takes the only slot and waits there. Heimdal's first legs all take a slot (none runs
      // on the loop), so there the slot is left free and the legs read the ticket on the pool.
      let settled = false;
      if (local) {
        waiting = initializeSecurityContext({ credential: cred, targetName: `HTTP/nothing-${process.pid}.${realm.kdc.domain}`, contextReq: REQ });
        void waiting.finally(() => (settled = true));
        await until('the waiting leg on the pool', () => kdcCallStats().running === 1, 5000);
      }

      const before = localFirstLegs();
      const legs: InitializeResult[] = [];
      const delay = await loopDelay(async () => {
        for (let i = 0; i < 1000; i++) {
          const r = await initializeSecurityContext({ credential: cred, targetName: realm.spn, contextReq: REQ });
          legs.push(r);
          if (r.context) deleteSecurityContext(r.context);
        }
      });
      expect(legs.map((r) => r.statusName)).to.deep.equal(Array(1000).fill('SEC_I_CONTINUE_NEEDED'));
      expect(localFirstLegs().tried - before.tried, 'on the loop').to.equal(local ? 1000 : 0);
      expect(settled, 'the KDC still has not answered the other leg').to.equal(false);
      expect(kdcCallStats()).to.deep.include({ running: local ? 1 : 0, queued: 0 });
      console.log(`      loop: a due timer ran ${delay.late.p50.toFixed(1)} ms late (p50), ${delay.late.p99.toFixed(1)} (p99), at most ${delay.late.max.toFixed(1)}, besides waiting for a CPU and GC (longest ${delay.gc.toFixed(1)}); monitorEventLoopDelay p99 ${delay.p99.toFixed(1)} ms, max ${delay.max.toFixed(1)} ms`);
      expect(delay.late.p90, 'the loop\'s delay (p90), ms').to.be.lessThan(LOOP_DELAY_MS);
      expect(delay.max, 'the loop\'s longest delay, ms: no wait on the KDC').to.be.lessThan(NO_KDC_WAIT_MS);
      // And the tokens are good: the acceptor takes one, as the KDC's silence goes on.
      const r = await initializeSecurityContext({ credential: cred, targetName: realm.spn, contextReq: REQ });
      const acceptor = await newAcceptor();
      await acceptor.step(r.output[0].buffer);
      expect(acceptor.username).to.equal(realm.kdc.principals.alice.name);
      deleteSecurityContext(r.context!);
    } finally {
      await restore?.();
      const ended = await waiting;
      if (ended?.context) deleteSecurityContext(ended.context);
      setMaxConcurrentKdcCalls(previous);
      freeCredentialsHandle(cred);
    }
  });

  it('without the ticket, and the KDC silent: the leg goes to the pool, and the loop stays free while it waits', async () => {
    const cred = await acquireCredentialsHandle();
    const restore = await silence();
    let waiting: Promise<InitializeResult> | undefined;
    try {
      const before = localFirstLegs();
      let settled = false;
      const delay = await loopDelay(async () => {
        waiting = initializeSecurityContext({ credential: cred, targetName: `HTTP/nowhere-${process.pid}.${realm.kdc.domain}`, contextReq: REQ });
        void waiting.finally(() => (settled = true));
        await until('the leg on the pool', () => kdcCallStats().running === 1, 5000);
        await new Promise((resolve) => setTimeout(resolve, 1500));
      });
      expect(settled, 'waiting on the KDC').to.equal(false);
      expect(localFirstLegs().tried - before.tried, 'not tried on the loop').to.equal(0);
      console.log(`      loop: a due timer ran ${delay.late.p50.toFixed(1)} ms late (p50), ${delay.late.p99.toFixed(1)} (p99), at most ${delay.late.max.toFixed(1)}, besides waiting for a CPU and GC (longest ${delay.gc.toFixed(1)}); monitorEventLoopDelay p99 ${delay.p99.toFixed(1)} ms, max ${delay.max.toFixed(1)} ms`);
      expect(delay.late.p90, 'the loop\'s delay (p90), ms').to.be.lessThan(LOOP_DELAY_MS);
      expect(delay.max, 'the loop\'s longest delay, ms: no wait on the KDC').to.be.lessThan(NO_KDC_WAIT_MS);
    } finally {
      await restore();
      const ended = await waiting;
      if (ended?.context) deleteSecurityContext(ended.context);
      freeCredentialsHandle(cred);
    }
  });

  it('the copy follows the default cache: kinit as someone else, an external kinit, KRB5CCNAME changed, kdestroy (Heimdal: the same users, every leg on the pool)', async () => {
    const { alice, bob } = realm.kdc.principals;
    const saved = process.env.KRB5CCNAME;
    const own = `FILE:${join(realm.kdc.dir, 'local-follows')}`;
    process.env.KRB5CCNAME = own;
    await realm.kdc.kinit(alice.name, { password: alice.password, ccache: own });
    const cred = await acquireCredentialsHandle();
    try {
      expect(await onLoop(cred), 'the ticket from the KDC').to.deep.equal([alice.name, false]);
      expect(await onLoop(cred), 'then from memory').to.deep.equal([alice.name, local]);
      await realm.kdc.kinit(bob.name, { password: bob.password, ccache: own });
      expect(await onLoop(cred), 'after kinit as bob into the same cache').to.deep.equal([bob.name, false]);
      expect(await onLoop(cred)).to.deep.equal([bob.name, local]);
      // kinit again (as k5start or sssd would): the new cache holds the TGT alone, and so does the copy.
      await realm.kdc.kinit(bob.name, { password: bob.password, ccache: own });
      expect(await onLoop(cred), 'after an external kinit').to.deep.equal([bob.name, false]);
      expect(await onLoop(cred)).to.deep.equal([bob.name, local]);
      process.env.KRB5CCNAME = realm.kdc.env.KRB5CCNAME;
      expect((await onLoop(cred))[0], 'after KRB5CCNAME names another cache').to.equal(alice.name);
      expect(await onLoop(cred)).to.deep.equal([alice.name, local]);
      process.env.KRB5CCNAME = own;
      expect(await onLoop(cred), 'bob\'s cache again, its ticket still there').to.deep.equal([bob.name, local]);
      await realm.kdc.kdestroy(own);
      expect(await onLoop(cred), 'after kdestroy: what the library says, not the copy').to.deep.equal(['SEC_E_NO_CREDENTIALS', false]);
    } finally {
      process.env.KRB5CCNAME = saved;
      freeCredentialsHandle(cred);
    }
  });

  it('the loop\'s cache holds service tickets and no TGT; it and its credential go with the handle (Heimdal: no copy is made)', async () => {
    const { alice } = realm.kdc.principals;
    const saved = process.env.KRB5CCNAME;
    const own = `FILE:${join(realm.kdc.dir, 'local-released')}`;
    process.env.KRB5CCNAME = own;
    await realm.kdc.kinit(alice.name, { password: alice.password, ccache: own });
    const baseline = { creds: liveGssCredentials(), caches: privateMemoryCaches() };
    const cred = await acquireCredentialsHandle();
    expect(await onLoop(cred)).to.deep.equal([alice.name, false]);
    expect(await onLoop(cred)).to.deep.equal([alice.name, local]);
    process.env.KRB5CCNAME = saved;
    const made = privateMemoryCaches().filter((c) => !baseline.caches.includes(c));
    expect(tgtTimes(own), 'the default cache has one').to.not.equal(undefined);
    if (local) {
      expect(made, 'one MEMORY cache of the handle').to.have.length(1);
      expect(tgtTimes(made[0]), 'no TGT in it').to.equal(undefined);
      expect(liveGssCredentials() - baseline.creds, 'the bound default credential (the pool leg) and the one over the copy').to.equal(2);
    } else {
      expect(made, 'Heimdal: no copy').to.have.length(0);
    }
    freeCredentialsHandle(cred);
    await until('the release', () => liveGssCredentials() === baseline.creds, 2000, 20);
    expect(privateMemoryCaches(), 'destroyed').to.deep.equal(baseline.caches);
  });

  it('delegation and host-based names keep the first leg on the pool', async () => {
    const cred = await acquireCredentialsHandle();
    try {
      await who(cred);
      const before = localFirstLegs();
      const r = await initializeSecurityContext({ credential: cred, targetName: realm.spn, contextReq: REQ | F.ISC_REQ_DELEGATE });
      expect(r.statusName).to.equal('SEC_I_CONTINUE_NEEDED');
      deleteSecurityContext(r.context!);
      expect(await who(cred, `HTTP@${realm.kdc.hostname}`)).to.equal(realm.kdc.principals.alice.name);
      expect(localFirstLegs().tried - before.tried).to.equal(0);
      // Heimdal: never on the loop.
      if (isHeimdal()) expect((await onLoop(cred))[1]).to.equal(false);
    } finally {
      freeCredentialsHandle(cred);
    }
  });

  it('a renewing keytab handle: its new TGT\'s cache is followed after a renewal (Heimdal: on the pool throughout)', async () => {
    // A client whose tickets last 45 s: renewed at half-life; a ticket is copied while it has over 35 s left.
    const user = `svc-local-${process.pid}`;
    await realm.kdc.kadmin(`addprinc -randkey -maxlife "45 seconds" ${user}`);
    const file = (name: string) => (realm.kdc.mode === 'docker' ? `/out/${name}` : join(realm.kdc.dir, name));
    await realm.kdc.kadmin(`ktadd -k ${file(`${user}.keytab`)} ${user}`);
    const name = `${user}@${realm.kdc.realm}`;
    const events: RenewalEvent[] = [];
    const cred = await acquireCredentialsHandle({ keytab: join(realm.kdc.dir, `${user}.keytab`), principal: name, onRenewal: (e) => events.push(e) });
    try {
      expect(await onLoop(cred)).to.deep.equal([name, false]);
      expect(await onLoop(cred)).to.deep.equal([name, local]);
      await until('a renewal', () => events.some((e) => e.outcome === 'renewed'), 40_000, 250);
      // The handle's cache is now the new TGT's, without the ticket: the copy follows it, and fills again.
      expect(await onLoop(cred), 'after the renewal').to.deep.equal([name, false]);
      expect(await onLoop(cred)).to.deep.equal([name, local]);
    } finally {
      freeCredentialsHandle(cred);
    }
  });
});
