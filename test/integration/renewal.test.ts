// Credentials that last (issue 16): a keytab handle gets a new TGT at half its lifetime, for as long as it lives,
// against the real KDC with principals whose maximum ticket life is cut to seconds (kadmin modprinc -maxlife).
// Each test fails on a handle that keeps its first TGT: its calls fail once that TGT expires.
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { renameSync } from 'node:fs';
import { join } from 'node:path';
import {
  SECPKG_ATTR_LIFESPAN, acquireCredentialsHandle, deleteSecurityContext, freeCredentialsHandle, initializeSecurityContext, makeSignature,
  negotiateFetch, queryCredentialsAttributes, type AcquireCredentialsOptions, type CredentialsHandle, type PackageName, type RenewalEvent,
} from '../../lib/index.js';
import * as F from '../../lib/vocabulary/flags.js';
import { newAcceptor } from '../harness/acceptor.js';
import { isHeimdal } from '../harness/flavour.js';
import { privateMemoryCaches } from '../harness/memory-caches.js';
import { realmSuite } from '../harness/realm-suite.js';
import { liveGssCredentials } from '../../lib/providers/gssapi-native.js';
import { loopbackLookup as lookup } from '../harness/loopback.js';

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
  // Apache with mod_auth_gssapi (.ci/run installs it): the HTTP client across lifetimes, where available.
  const realm = realmSuite({ logon: 'none', apache: 'if-available' });
  let made = 0;

  /** One request with `cred` through the HTTP client: 200 with mutual authentication, else what happened. */
  async function viaHttp(cred: CredentialsHandle): Promise<{ status: string; ms: number; start: number }> {
    const start = Date.now();
    try {
      const res = await negotiateFetch(`http://${realm.kdc.hostname}:${realm.apache!.httpPort}/private/hello.txt`, { negotiate: { credential: cred, connect: { lookup } } });
      await res.text();
      return { status: res.status === 200 && res.negotiate.mutual ? 'SEC_I_CONTINUE_NEEDED' : `HTTP ${res.status} mutual ${res.negotiate.mutual}`, ms: Date.now() - start, start };
    } catch (err) {
      return { status: `${(err as Error).name}: ${(err as Error).message}`, ms: Date.now() - start, start };
    }
  }

  /** A new client principal with a keytab of its own and a maximum ticket life of LIFE_S seconds. */
  async function shortLived(): Promise<{ name: string; keytab: string; file: (name: string) => string }> {
    const user = `svc-renew-${process.pid}-${++made}`;
    const file = (name: string) => (realm.kdc.mode === 'docker' ? `/out/${name}` : join(realm.kdc.dir, name));
    await realm.kdc.kadmin(`addprinc -randkey -maxlife "${LIFE_S} seconds" ${user}`);
    await realm.kdc.kadmin(`ktadd -k ${file(`${user}.keytab`)} ${user}`);
    return { name: `${user}@${realm.kdc.realm}`, keytab: join(realm.kdc.dir, `${user}.keytab`), file };
  }

  /** A new user with a random password, a maximum ticket life of LIFE_S seconds and `renewable` of renewable life. */
  async function shortLivedUser(renewable: string): Promise<{ name: string; password: string }> {
    const user = `user-renew-${process.pid}-${++made}`;
    const password = randomBytes(18).toString('hex');
    await realm.kdc.kadmin(`addprinc -pw ${password} -maxlife "${LIFE_S} seconds" -maxrenewlife "${renewable}" ${user}`);
    return { name: `${user}@${realm.kdc.realm}`, password };
  }

  /** One first leg with `cred`, accepted by the independent acceptor: the status, and how long the leg took. */
  async function authenticate(cred: CredentialsHandle, pkg: PackageName, principal: string): Promise<{ status: string; ms: number; start: number; gss?: { minor: number } }> {
    const start = Date.now();
    const r = await initializeSecurityContext({ credential: cred, targetName: `HTTP/${realm.kdc.hostname}`, contextReq: REQ });
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

  it(`keytab (both packages, and over HTTP to Apache), renewable password, password callback and (MIT) default handle with a client keytab, used for 3 lifetimes (${LIFE_S} s) with 20 requests in flight each: no failure, renewed each half-life`, async function () {
    const svc = await shortLived();
    const user = await shortLivedUser('2 minutes');
    // Not renewable at all: each new TGT is a logon with the callback's password.
    const other = await shortLivedUser('0 seconds');
    const given: Uint8Array[] = [];
    const callback = async () => {
      const bytes = Buffer.from(other.password);
      given.push(bytes);
      return bytes;
    };
    const sources: Array<{ label: string; pkg: PackageName; principal: string; options: AcquireCredentialsOptions; method: RenewalEvent['method']; http?: boolean }> = [
      { label: 'keytab, Kerberos', pkg: 'Kerberos', principal: svc.name, options: { keytab: svc.keytab, principal: svc.name }, method: 'keytab' },
      { label: 'keytab, Negotiate', pkg: 'Negotiate', principal: svc.name, options: { keytab: svc.keytab, principal: svc.name }, method: 'keytab' },
      { label: 'renewable password', pkg: 'Kerberos', principal: user.name, options: { principal: user.name, password: user.password, renewable: 120 }, method: 'renew' },
      { label: 'password callback', pkg: 'Negotiate', principal: other.name, options: { principal: other.name, password: callback }, method: 'password' },
    ];
    // The HTTP client against Apache with a keytab handle: every request 200, mutually authenticated.
    if (realm.apache) sources.push({ label: 'keytab, HTTP to Apache', pkg: 'Negotiate', principal: svc.name, options: { keytab: svc.keytab, principal: svc.name }, method: 'keytab', http: true });
    // MIT's own client-keytab initiation (krb5.conf(5), default_client_keytab_name): the default handle of a
    // process with a keytab and no ticket cache. MIT gets and refreshes the TGT itself; the handle must not defeat it.
    const saved = { cc: process.env.KRB5CCNAME, kt: process.env.KRB5_CLIENT_KTNAME };
    if (!isHeimdal()) {
      process.env.KRB5CCNAME = `MEMORY:renewal-default-${process.pid}`;
      process.env.KRB5_CLIENT_KTNAME = `FILE:${svc.keytab}`;
      sources.push({ label: 'default handle, client keytab', pkg: 'Kerberos', principal: svc.name, options: {}, method: 'keytab' });
    }
    const events = sources.map(() => [] as RenewalEvent[]);
    try {
      const handles = await Promise.all(sources.map((s, i) =>
        acquireCredentialsHandle({ package: s.pkg, ...s.options, ...(s.options.principal ? { onRenewal: (e: RenewalEvent) => events[i].push(e) } : {}) })));
      const first = (await queryCredentialsAttributes(handles[0], SECPKG_ATTR_LIFESPAN)).value!;
      expect((first.expiry.getTime() - first.start!.getTime()) / 1000, 'the KDC cut the lifetime').to.equal(LIFE_S);
      // A context established now lives as long as its service ticket, whatever the handle does after.
      const early = await initializeSecurityContext({ credential: handles[0], targetName: `HTTP/${realm.kdc.hostname}`, contextReq: REQ });
      const reply = await (await newAcceptor()).step(early.output[0].buffer);
      const done = await initializeSecurityContext({ context: early.context, contextReq: REQ, input: [{ type: F.SECBUFFER_TOKEN, buffer: reply }] });
      expect(done.statusName).to.equal('SEC_E_OK');
      const sign = () => makeSignature(early.context!, 0, [{ type: F.SECBUFFER_DATA, buffer: Buffer.from('x') }, { type: F.SECBUFFER_TOKEN, buffer: new Uint8Array(64) }]);
      expect(sign().statusName).to.equal('SEC_E_OK');
      const stopAt = first.start!.getTime() + 3 * LIFE_S * 1000 + 1000;
      const calls = sources.map(() => [] as Array<{ status: string; ms: number; start: number }>);
      const worker = async (h: number) => {
        while (Date.now() < stopAt) {
          calls[h].push(await (sources[h].http ? viaHttp(handles[h]) : authenticate(handles[h], sources[h].pkg, sources[h].principal)));
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      };
      await Promise.all(sources.flatMap((_, h) => Array.from({ length: 20 }, () => worker(h))));
      sources.forEach((source, h) => {
        const failures = calls[h].filter((c) => c.status !== 'SEC_I_CONTINUE_NEEDED');
        expect(failures.slice(0, 5), `${source.label}: ${failures.length} of ${calls[h].length} calls failed`).to.deep.equal([]);
        if (!source.options.principal) {
          console.log(`      ${source.label}: ${calls[h].length} calls, 0 failed (renewed by MIT itself)`);
          return;
        }
        const renewed = events[h].filter((e) => e.outcome === 'renewed');
        // Past 3 lifetimes at one renewal per half-life: at least 5 (the first at 6 s, then every 6 s to 37 s).
        expect(renewed.length, `${source.label} renewals`).to.be.at.least(5);
        expect(events[h].filter((e) => e.outcome === 'failed'), `${source.label} failed renewals`).to.deep.equal([]);
        for (const e of renewed) {
          expect(e.method, source.label).to.equal(source.method);
          // Each at half the previous TGT's life (the timer or a call may be a little late, never early).
          const half = (e.previous.start.getTime() + e.previous.end.getTime()) / 2;
          expect(e.started.getTime(), 'not before half-life').to.be.at.least(half);
          expect(e.started.getTime(), 'before the old TGT expired').to.be.below(e.previous.end.getTime());
          expect(e.times!.end.getTime()).to.be.above(e.previous.end.getTime());
        }
        // Calls overlapped the renewals and went on with the old TGT.
        const during = calls[h].filter((c) => renewed.some((e) => c.start <= e.started.getTime() + e.durationMs && c.start + c.ms >= e.started.getTime()));
        const longest = during.length ? Math.max(...during.map((c) => c.ms)) : 0;
        const renewMs = Math.max(...renewed.map((e) => e.durationMs));
        console.log(`      ${source.label}: ${calls[h].length} calls, 0 failed, ${renewed.length} renewals (longest ${renewMs} ms), ${during.length} calls during renewals (longest ${longest} ms)`);
      });
      // The early context's ticket has expired: message calls say so (the handle's renewals do not extend a context).
      expect(done.expiry!.getTime()).to.be.below(Date.now());
      expect(sign().statusName, 'a message call on a context whose ticket expired').to.equal('SEC_E_CONTEXT_EXPIRED');
      deleteSecurityContext(early.context!);
      // The callback was asked at each logon, and every password it gave was zeroed after use.
      expect(given.length, 'password callback calls').to.be.at.least(6);
      expect(given.every((b) => b.every((x) => x === 0)), 'zeroed').to.equal(true);
      handles.forEach((h) => freeCredentialsHandle(h));
    } finally {
      process.env.KRB5CCNAME = saved.cc;
      if (saved.kt === undefined) delete process.env.KRB5_CLIENT_KTNAME;
      else process.env.KRB5_CLIENT_KTNAME = saved.kt;
    }
  });

  it('a renewable password handle is renewed until its renew-till; then the callback logs on again, or (no callback) SEC_E_CONTEXT_EXPIRED', async () => {
    const user = await shortLivedUser(`${LIFE_S * 1.5} seconds`);
    let asked = 0;
    const withCallback: RenewalEvent[] = [];
    const without: RenewalEvent[] = [];
    const a = await acquireCredentialsHandle({ principal: user.name, renewable: 3600, onRenewal: (e) => withCallback.push(e), password: async () => {
      asked++;
      return Buffer.from(user.password);
    } });
    const b = await acquireCredentialsHandle({ principal: user.name, password: user.password, renewable: 3600, onRenewal: (e) => without.push(e) });
    const life = (await queryCredentialsAttributes(b, SECPKG_ATTR_LIFESPAN)).value!;
    expect((life.renewTill!.getTime() - life.start!.getTime()) / 1000, 'renewable for 1.5 lifetimes').to.equal(LIFE_S * 1.5);
    expect(asked, 'asked for the first logon').to.equal(1);
    let expired: Awaited<ReturnType<typeof authenticate>> | undefined;
    await until('the end of the renewable life', async () => {
      expect((await authenticate(a, 'Negotiate', user.name)).status, 'with the callback').to.equal('SEC_I_CONTINUE_NEEDED');
      const r = await authenticate(b, 'Negotiate', user.name);
      if (r.start < life.renewTill!.getTime() - 1500) expect(r.status, 'renewable, before renew-till').to.equal('SEC_I_CONTINUE_NEEDED');
      if (r.start > life.renewTill!.getTime()) expired = r;
      return expired !== undefined && withCallback.some((e) => e.method === 'password' && e.outcome === 'renewed');
    }, 3 * LIFE_S * 1000, 250);
    expect(without.filter((e) => e.outcome === 'renewed').map((e) => e.method), 'renewed by the KDC').to.include('renew');
    const refused = without.find((e) => e.outcome === 'failed')!;
    expect(refused.statusName).to.equal('SEC_E_CONTEXT_EXPIRED');
    expect(expired!.status, 'past renew-till without a callback').to.equal('SEC_E_CONTEXT_EXPIRED');
    expect(withCallback.map((e) => e.method), 'renewed, then a logon with the callback').to.include.members(['renew', 'password']);
    expect(asked).to.equal(2);
    freeCredentialsHandle(a);
    freeCredentialsHandle(b);
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
    await realm.kdc.pause();
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
      await realm.kdc.resume();
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
    await realm.kdc.pause();
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
      await realm.kdc.resume();
    }
    // Back: the next call logs on again (at most one attempt a second) and authenticates.
    await until('recovery', async () => (await authenticate(cred, 'Kerberos', svc.name)).status === 'SEC_I_CONTINUE_NEEDED', 5000, 200);
    expect(events.at(-1)!.outcome).to.equal('renewed');
    freeCredentialsHandle(cred);
  });

  it('a keytab replaced on disk by one with a new kvno is used by the next renewal', async () => {
    const svc = await shortLived();
    const events: RenewalEvent[] = [];
    const baseline = { creds: liveGssCredentials(), caches: privateMemoryCaches().length };
    const cred = await acquireCredentialsHandle({ package: 'Negotiate', keytab: svc.keytab, principal: svc.name, onRenewal: (e) => events.push(e) });
    expect((await authenticate(cred, 'Negotiate', svc.name)).status).to.equal('SEC_I_CONTINUE_NEEDED');
    // ktadd gives the principal a new random key (kvno + 1): the old key no longer logs on. The new keytab is
    // written beside the old one and renamed over it, as an operator (or a secrets manager) would.
    const user = svc.name.split('@')[0];
    await realm.kdc.kadmin(`ktadd -k ${svc.file(`${user}.new.keytab`)} ${user}`);
    const rotated = Date.now();
    renameSync(join(realm.kdc.dir, `${user}.new.keytab`), svc.keytab);
    await until('a renewal after the rotation', async () => {
      expect((await authenticate(cred, 'Negotiate', svc.name)).status).to.equal('SEC_I_CONTINUE_NEEDED');
      return events.some((e) => e.started.getTime() >= rotated);
    }, LIFE_S * 1000);
    expect(events.filter((e) => e.started.getTime() >= rotated).map((e) => e.statusName)).to.deep.equal(['SEC_E_OK']);
    expect((await authenticate(cred, 'Negotiate', svc.name)).status, 'with the TGT from the new key').to.equal('SEC_I_CONTINUE_NEEDED');
    // Each TGT was a GSS credential over a cache of its own: one of each is held now, none once the handle goes.
    expect([liveGssCredentials() - baseline.creds, privateMemoryCaches().length - baseline.caches], 'held while in use').to.deep.equal([1, 1]);
    freeCredentialsHandle(cred);
    await until('the release', () => liveGssCredentials() === baseline.creds, 2000, 20);
    expect(privateMemoryCaches().length, 'every private cache destroyed').to.equal(baseline.caches);
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
    await realm.kdc.kinit(realm.kdc.principals.alice.name, { password: realm.kdc.principals.alice.password, ccache: realm.kdc.env.KRB5CCNAME });
    for (const options of [{ ccache: realm.kdc.env.KRB5CCNAME }, {}]) {
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
