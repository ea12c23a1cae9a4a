// Credentials that last (issue 16): a keytab handle gets a new TGT at half its lifetime, for as long as it lives,
// against the real KDC with principals whose maximum ticket life is cut to seconds (kadmin modprinc -maxlife).
// Each test fails on a handle that keeps its first TGT: its calls fail once that TGT expires.
import { expect } from 'chai';
import { renameSync } from 'node:fs';
import { join } from 'node:path';
import {
  SECPKG_ATTR_LIFESPAN, acquireCredentialsHandle, deleteSecurityContext, freeCredentialsHandle, initializeSecurityContext,
  queryCredentialsAttributes, type CredentialsHandle, type PackageName, type RenewalEvent,
} from '../../lib/index.js';
import * as F from '../../lib/sspi/flags.js';
import { newAcceptor } from '../harness/acceptor.js';
import { sharedKdc, type Kdc } from '../harness/kdc.js';

const REQ = F.ISC_REQ_MUTUAL_AUTH | F.ISC_REQ_INTEGRITY;
const KDC_UNREACH = -1765328228;
/** The cut lifetime: short for the suite's time, long enough for a renewal (a few ms) and the KDC's restart. */
const LIFE_S = 12;

const until = async (what: string, done: () => boolean | Promise<boolean>, ms: number, step = 100) => {
  const deadline = Date.now() + ms;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, step));
  }
};

describe('renewal: credentials that last (issue 16)', function () {
  this.timeout(120_000);
  let kdc: Kdc;
  let made = 0;

  before(async () => {
    kdc = await sharedKdc();
    kdc.applyEnv();
  });

  /** A new client principal with a keytab of its own and a maximum ticket life of LIFE_S seconds. */
  async function shortLived(): Promise<{ name: string; keytab: string; file: (name: string) => string }> {
    const user = `svc-renew-${process.pid}-${++made}`;
    const file = (name: string) => (kdc.mode === 'docker' ? `/out/${name}` : join(kdc.dir, name));
    await kdc.kadmin(`addprinc -randkey -maxlife "${LIFE_S} seconds" ${user}`);
    await kdc.kadmin(`ktadd -k ${file(`${user}.keytab`)} ${user}`);
    return { name: `${user}@${kdc.realm}`, keytab: join(kdc.dir, `${user}.keytab`), file };
  }

  /** One first leg with `cred`, accepted by the independent acceptor: the status, and how long the leg took. */
  async function authenticate(cred: CredentialsHandle, pkg: PackageName, principal: string): Promise<{ status: string; ms: number; start: number; gss?: { minor: number } }> {
    const start = Date.now();
    const r = await initializeSecurityContext({ credential: cred, targetName: `HTTP/${kdc.hostname}`, contextReq: REQ });
    const ms = Date.now() - start;
    if (r.statusName !== 'SEC_I_CONTINUE_NEEDED') return { status: r.statusName, ms, start, gss: r.gss };
    try {
      const acceptor = await newAcceptor();
      await acceptor.step(r.output[0].buffer);
      return { status: acceptor.username === principal ? r.statusName : `accepted as ${acceptor.username}`, ms, start };
    } finally {
      deleteSecurityContext(r.context!);
    }
  }

  it(`a keytab handle used for 3 lifetimes (${LIFE_S} s) with 20 requests in flight, both packages: no failure, renewed each half-life`, async function () {
    const svc = await shortLived();
    const packages: PackageName[] = ['Kerberos', 'Negotiate'];
    const events: Record<string, RenewalEvent[]> = { Kerberos: [], Negotiate: [] };
    const handles = await Promise.all(packages.map((pkg) =>
      acquireCredentialsHandle({ package: pkg, keytab: svc.keytab, principal: svc.name, onRenewal: (e) => events[pkg].push(e) })));
    const first = (await queryCredentialsAttributes(handles[0], SECPKG_ATTR_LIFESPAN)).value!;
    expect((first.expiry.getTime() - first.start!.getTime()) / 1000, 'the KDC cut the lifetime').to.equal(LIFE_S);
    const stopAt = first.start!.getTime() + 3 * LIFE_S * 1000 + 1000;
    const calls: Array<{ pkg: PackageName; status: string; ms: number; start: number }> = [];
    const worker = async (i: number) => {
      const pkg = packages[i % 2];
      while (Date.now() < stopAt) {
        calls.push({ pkg, ...(await authenticate(handles[i % 2], pkg, svc.name)) });
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };
    await Promise.all(Array.from({ length: 40 }, (_, i) => worker(i)));
    const failures = calls.filter((c) => c.status !== 'SEC_I_CONTINUE_NEEDED');
    expect(failures.slice(0, 5), `${failures.length} of ${calls.length} calls failed`).to.deep.equal([]);
    for (const pkg of packages) {
      const renewed = events[pkg].filter((e) => e.outcome === 'renewed');
      // Past 3 lifetimes at one renewal per half-life: at least 5 (the first at 6 s, then every 6 s to 37 s).
      expect(renewed.length, `${pkg} renewals`).to.be.at.least(5);
      expect(events[pkg].filter((e) => e.outcome === 'failed'), `${pkg} failed renewals`).to.deep.equal([]);
      for (const e of renewed) {
        // Each at half the previous TGT's life (the timer or a call may be a little late, never early).
        const half = (e.previous.start.getTime() + e.previous.end.getTime()) / 2;
        expect(e.started.getTime(), 'not before half-life').to.be.at.least(half);
        expect(e.started.getTime(), 'before the old TGT expired').to.be.below(e.previous.end.getTime());
        expect(e.times!.end.getTime()).to.be.above(e.previous.end.getTime());
      }
      // Calls overlapped the renewals and went on with the old TGT.
      const during = calls.filter((c) => c.pkg === pkg && renewed.some((e) => c.start <= e.started.getTime() + e.durationMs && c.start + c.ms >= e.started.getTime()));
      expect(during.length, 'calls in flight during a renewal').to.be.greaterThan(0);
      const longest = Math.max(...during.map((c) => c.ms));
      const renewMs = Math.max(...renewed.map((e) => e.durationMs));
      console.log(`      ${pkg}: ${calls.filter((c) => c.pkg === pkg).length} calls, 0 failed, ${renewed.length} renewals (longest ${renewMs} ms), ${during.length} calls during renewals (longest ${longest} ms)`);
    }
    const now = (await queryCredentialsAttributes(handles[1], SECPKG_ATTR_LIFESPAN)).value!;
    expect(now.expiry.getTime(), 'the TGT in use is the latest').to.be.above(Date.now());
    handles.forEach((h) => freeCredentialsHandle(h));
  });

  it('the KDC down within the renewal window: no failed call; down past expiry: SEC_E_NO_AUTHENTICATING_AUTHORITY; back: recovery', async function () {
    const svc = await shortLived();
    const events: RenewalEvent[] = [];
    const cred = await acquireCredentialsHandle({ package: 'Kerberos', keytab: svc.keytab, principal: svc.name, onRenewal: (e) => events.push(e) });
    const ok = async (what: string) => {
      const r = await authenticate(cred, 'Kerberos', svc.name);
      expect(r.status, what).to.equal('SEC_I_CONTINUE_NEEDED');
    };
    await ok('before the outage');
    const life = (await queryCredentialsAttributes(cred, SECPKG_ATTR_LIFESPAN)).value!;
    await kdc.pause();
    try {
      // Calls go on while the renewal fails: the old TGT (and the service ticket got with it) is still valid.
      await until('a failed renewal', async () => {
        await ok('during the outage, before expiry');
        return events.some((e) => e.outcome === 'failed');
      }, LIFE_S * 1000);
      const failed = events.find((e) => e.outcome === 'failed')!;
      expect(failed.statusName).to.equal('SEC_E_NO_AUTHENTICATING_AUTHORITY');
      expect(failed.gss!.minor).to.equal(KDC_UNREACH);
      expect(failed.expired).to.equal(false);
      expect(failed.nextAttempt!.getTime()).to.be.below(life.expiry.getTime());
    } finally {
      await kdc.resume();
    }
    await until('a renewal once the KDC is back', async () => {
      await ok('after the KDC returned');
      return events.some((e) => e.outcome === 'renewed');
    }, LIFE_S * 1000);
    const renewed = events.find((e) => e.outcome === 'renewed')!;
    expect(renewed.started.getTime(), 'renewed before the old TGT expired').to.be.below(life.expiry.getTime());
    await ok('with the new TGT');

    // Now down past the expiry of the TGT in use: the true status, once it has really expired.
    const end = renewed.times!.end.getTime();
    await kdc.pause();
    let expired: Awaited<ReturnType<typeof authenticate>> | undefined;
    try {
      await until('the TGT\'s expiry', async () => {
        const r = await authenticate(cred, 'Kerberos', svc.name);
        if (Date.now() < end - 1500) expect(r.status, 'before expiry').to.equal('SEC_I_CONTINUE_NEEDED');
        if (r.start > end) expired = r;
        return expired !== undefined;
      }, 2 * LIFE_S * 1000, 250);
      expect(expired!.status).to.equal('SEC_E_NO_AUTHENTICATING_AUTHORITY');
      expect(expired!.gss!.minor).to.equal(KDC_UNREACH);
      expect(events.at(-1)!.expired, 'the last failed attempt saw the TGT expired').to.equal(true);
    } finally {
      await kdc.resume();
    }
    // Back: the next call logs on again (at most one attempt a second) and authenticates.
    await until('recovery', async () => (await authenticate(cred, 'Kerberos', svc.name)).status === 'SEC_I_CONTINUE_NEEDED', 5000, 200);
    expect(events.at(-1)!.outcome).to.equal('renewed');
    freeCredentialsHandle(cred);
  });

  it('a keytab replaced on disk by one with a new kvno is used by the next renewal', async () => {
    const svc = await shortLived();
    const events: RenewalEvent[] = [];
    const cred = await acquireCredentialsHandle({ package: 'Negotiate', keytab: svc.keytab, principal: svc.name, onRenewal: (e) => events.push(e) });
    expect((await authenticate(cred, 'Negotiate', svc.name)).status).to.equal('SEC_I_CONTINUE_NEEDED');
    // ktadd gives the principal a new random key (kvno + 1): the old key no longer logs on. The new keytab is
    // written beside the old one and renamed over it, as an operator (or a secrets manager) would.
    const user = svc.name.split('@')[0];
    await kdc.kadmin(`ktadd -k ${svc.file(`${user}.new.keytab`)} ${user}`);
    const rotated = Date.now();
    renameSync(join(kdc.dir, `${user}.new.keytab`), svc.keytab);
    await until('a renewal after the rotation', async () => {
      expect((await authenticate(cred, 'Negotiate', svc.name)).status).to.equal('SEC_I_CONTINUE_NEEDED');
      return events.some((e) => e.started.getTime() >= rotated);
    }, LIFE_S * 1000);
    expect(events.filter((e) => e.started.getTime() >= rotated).map((e) => e.statusName)).to.deep.equal(['SEC_E_OK']);
    expect((await authenticate(cred, 'Negotiate', svc.name)).status, 'with the TGT from the new key').to.equal('SEC_I_CONTINUE_NEEDED');
    freeCredentialsHandle(cred);
  });

  it('SECPKG_ATTR_LIFESPAN gives the TGT\'s start, end and renew-till; renewal events carry no secret', async () => {
    const svc = await shortLived();
    const events: RenewalEvent[] = [];
    const cred = await acquireCredentialsHandle({ keytab: svc.keytab, principal: svc.name, renewable: 3600, onRenewal: (e) => events.push(e) });
    const life = (await queryCredentialsAttributes(cred, SECPKG_ATTR_LIFESPAN)).value!;
    expect(life.start!.getTime() % 1000).to.equal(0);
    expect((life.expiry.getTime() - life.start!.getTime()) / 1000).to.equal(LIFE_S);
    expect(life.renewTill!.getTime(), 'renewable').to.be.above(life.expiry.getTime());
    // The default cache's TGT too, read where GSS reads it.
    await kdc.kinit(kdc.principals.alice.name, { password: kdc.principals.alice.password, ccache: kdc.env.KRB5CCNAME });
    for (const options of [{ ccache: kdc.env.KRB5CCNAME }, {}]) {
      const own = await acquireCredentialsHandle(options);
      const def = await queryCredentialsAttributes(own, SECPKG_ATTR_LIFESPAN);
      expect(def.value?.start?.getTime(), def.error?.message).to.be.below(def.value!.expiry.getTime());
      freeCredentialsHandle(own);
    }
    await until('a renewal', async () => events.length > 0, LIFE_S * 1000);
    const text = JSON.stringify(events);
    expect(Object.keys(events[0]).sort()).to.deep.equal(['durationMs', 'failuresBefore', 'method', 'outcome', 'previous', 'started', 'status', 'statusName', 'times']);
    // Times, statuses and durations only: no path, no bytes.
    expect(text).to.not.contain(svc.keytab);
    const bytes = (v: unknown): boolean => v instanceof Uint8Array || (typeof v === 'object' && v !== null && Object.values(v).some(bytes));
    expect(events.some(bytes)).to.equal(false);
    freeCredentialsHandle(cred);
  });

  it('refuses an onRenewal that is not a function', async () => {
    let thrown: unknown;
    try {
      await acquireCredentialsHandle({ onRenewal: 'yes' as never });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).to.be.instanceOf(TypeError);
  });
});
