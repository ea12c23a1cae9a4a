// Credential sources chosen per handle: the default cache, a named cache, a principal from a cache collection, a
// password, a client keytab. Each authenticates as its own principal, side by side and concurrently, without
// touching process.env or the default cache.
import { expect } from 'chai';
import { join } from 'node:path';
import {
  SECPKG_ATTR_LIFESPAN, SECPKG_CRED_ATTR_NAMES, acquireCredentialsHandle, deleteSecurityContext, freeCredentialsHandle,
  initializeSecurityContext, queryCredentialsAttributes, type AcquireCredentialsOptions,
} from '../../lib/index.js';
import * as F from '../../lib/vocabulary/flags.js';
import { newAcceptor } from '../harness/acceptor.js';
import { KERBEROS_ADDON, realmSuite } from '../harness/realm-suite.js';
import { expectAcquireRefused } from '../harness/refusals.js';
import { gssapi } from '../../ffi/gssapi.js';
import { liveGssCredentials } from '../../lib/providers/gssapi-native.js';

const REQ = F.ISC_REQ_MUTUAL_AUTH | F.ISC_REQ_INTEGRITY;

describe('credential sources', function () {
  this.timeout(120_000);
  const realm = realmSuite({ needs: [KERBEROS_ADDON] });
  let bobCache: string;
  let collection: string;
  let sources: Array<{ label: string; options: AcquireCredentialsOptions; principal: string }>;

  /** Authenticates once with `options` and returns who the acceptor saw. */
  async function whoAmI(options: AcquireCredentialsOptions): Promise<string | undefined> {
    const cred = await acquireCredentialsHandle(options);
    try {
      const r = await initializeSecurityContext({ credential: cred, targetName: `HTTP/${realm.kdc.hostname}`, contextReq: REQ });
      expect(r.statusName, r.error?.message).to.equal('SEC_I_CONTINUE_NEEDED');
      const acceptor = await newAcceptor();
      await acceptor.step(r.output[0].buffer);
      deleteSecurityContext(r.context!);
      return acceptor.username;
    } finally {
      freeCredentialsHandle(cred);
    }
  }

  before(async () => {
    const kdc = realm.kdc;
    const { alice, bob, svcClient } = kdc.principals;
    bobCache = `FILE:${join(kdc.dir, 'bob-ccache')}`;
    await kdc.kinit(bob.name, { password: bob.password, ccache: bobCache });
    // A DIR: collection holding both users: the principal option picks one.
    collection = `DIR:${join(kdc.dir, 'collection')}`;
    await kdc.kinit(alice.name, { password: alice.password, ccache: collection });
    await kdc.kinit(bob.name, { password: bob.password, ccache: collection });
    sources = [
      { label: 'default ccache', options: {}, principal: alice.name },
      { label: 'named FILE: ccache', options: { ccache: bobCache }, principal: bob.name },
      { label: 'principal from a DIR: collection', options: { ccache: collection, principal: bob.name }, principal: bob.name },
      { label: 'password', options: { principal: bob.name, password: bob.password }, principal: bob.name },
      { label: 'client keytab', options: { keytab: svcClient.keytab, principal: svcClient.name }, principal: svcClient.name },
    ];
  });

  it('each source authenticates as its own principal', async () => {
    for (const source of sources) expect(await whoAmI(source.options), source.label).to.equal(source.principal);
  });

  it('a keytab logon keeps its tickets private: the default cache and process.env are untouched', async () => {
    const before = { ...process.env };
    expect(await whoAmI({ keytab: realm.kdc.principals.svcClient.keytab, principal: realm.kdc.principals.svcClient.name })).to.equal(realm.kdc.principals.svcClient.name);
    expect(process.env.KRB5CCNAME).to.equal(before.KRB5CCNAME);
    expect(await whoAmI({})).to.equal(realm.kdc.principals.alice.name);
  });

  it('50 handles from 5 sources, used concurrently, each authenticate as the right principal', async () => {
    const jobs = Array.from({ length: 50 }, (_, i) => sources[i % sources.length]);
    const seen = await Promise.all(jobs.map((s) => whoAmI(s.options)));
    seen.forEach((who, i) => expect(who, `${jobs[i].label} #${i}`).to.equal(jobs[i].principal));
  });

  it('queryCredentialsAttributes names the principal and the expiry', async () => {
    for (const source of sources) {
      const cred = await acquireCredentialsHandle(source.options);
      const names = await queryCredentialsAttributes(cred, SECPKG_CRED_ATTR_NAMES);
      expect(names.statusName, `${source.label}: ${names.error?.message}`).to.equal('SEC_E_OK');
      expect(names.value!.userName, source.label).to.equal(source.principal);
      const life = await queryCredentialsAttributes(cred, SECPKG_ATTR_LIFESPAN);
      expect(life.value!.expiry.getTime(), source.label).to.be.greaterThan(Date.now());
      expect((await queryCredentialsAttributes(cred, 99)).statusName).to.equal('SEC_E_UNSUPPORTED_FUNCTION');
      freeCredentialsHandle(cred);
      expect((await queryCredentialsAttributes(cred, SECPKG_CRED_ATTR_NAMES)).statusName).to.equal('SEC_E_INVALID_HANDLE');
    }
  });

  it('expiry times are the tickets\' own end times: whole seconds that do not move between calls', async () => {
    const cred = await acquireCredentialsHandle({ package: 'Kerberos' });
    try {
      const ends: number[] = [];
      const contextEnds: number[] = [];
      for (let i = 0; i < 4; i++) {
        ends.push((await queryCredentialsAttributes(cred, SECPKG_ATTR_LIFESPAN)).value!.expiry.getTime());
        const r = await initializeSecurityContext({ credential: cred, targetName: `HTTP/${realm.kdc.hostname}`, contextReq: REQ });
        expect(r.statusName, r.error?.message).to.equal('SEC_I_CONTINUE_NEEDED');
        contextEnds.push(r.expiry!.getTime());
        deleteSecurityContext(r.context!);
        // Across a second boundary at least once: now + lifetime would move with the clock.
        await new Promise((resolve) => setTimeout(resolve, 370));
      }
      expect(new Set(ends).size, `TGT end times ${ends}`).to.equal(1);
      expect(ends[0] % 1000, 'whole seconds').to.equal(0);
      // A context's lifetime counts from MIT's clock corrected by the KDC offset it measured at the AS exchange, a
      // fraction of a second that we cannot see: its whole-second end may read one second apart (seen with the KDC
      // in Docker), never with the clock's milliseconds.
      expect(contextEnds.every((t) => t % 1000 === 0), `context end times ${contextEnds}: whole seconds`).to.equal(true);
      expect(Math.max(...contextEnds) - Math.min(...contextEnds), `context end times ${contextEnds}`).to.be.at.most(1000);
      expect(Math.min(...contextEnds)).to.be.at.most(ends[0]);
    } finally {
      freeCredentialsHandle(cred);
    }
  });

  it('missing credentials give SEC_E_NO_CREDENTIALS, at query and at use', async () => {
    const empty = await acquireCredentialsHandle({ ccache: `FILE:${join(realm.kdc.dir, 'never-written')}` });
    expect((await queryCredentialsAttributes(empty, SECPKG_CRED_ATTR_NAMES)).statusName).to.equal('SEC_E_NO_CREDENTIALS');
    const r = await initializeSecurityContext({ credential: empty, targetName: `HTTP/${realm.kdc.hostname}`, contextReq: REQ });
    expect(r.statusName).to.equal('SEC_E_NO_CREDENTIALS');
    freeCredentialsHandle(empty);
    const noKey = await acquireCredentialsHandle({ keytab: realm.kdc.principals.svcClient.keytab, principal: realm.kdc.principals.bob.name });
    const r2 = await initializeSecurityContext({ credential: noKey, targetName: `HTTP/${realm.kdc.hostname}`, contextReq: REQ });
    expect(r2.statusName, 'bob has no key in that keytab').to.equal('SEC_E_NO_CREDENTIALS');
    freeCredentialsHandle(noKey);
  });

  it('one default-credential handle follows the default cache: kinit as someone else, KRB5CCNAME changed, kdestroy', async () => {
    // The handle binds to the default cache at its first use (fast reuse, MIT); it must still say what
    // GSS_C_NO_CREDENTIAL would say after each change.
    const { alice, bob } = realm.kdc.principals;
    const saved = process.env.KRB5CCNAME;
    const own = `FILE:${join(realm.kdc.dir, 'default-follows')}`;
    process.env.KRB5CCNAME = own;
    await realm.kdc.kinit(alice.name, { password: alice.password, ccache: own });
    const cred = await acquireCredentialsHandle();
    const who = async () => {
      const r = await initializeSecurityContext({ credential: cred, targetName: `HTTP/${realm.kdc.hostname}`, contextReq: REQ });
      if (r.statusName !== 'SEC_I_CONTINUE_NEEDED') return r.statusName;
      const acceptor = await newAcceptor();
      await acceptor.step(r.output[0].buffer);
      deleteSecurityContext(r.context!);
      return acceptor.username;
    };
    try {
      expect(await who()).to.equal(alice.name);
      expect(await who(), 'reused').to.equal(alice.name);
      await realm.kdc.kinit(bob.name, { password: bob.password, ccache: own });
      expect(await who(), 'after kinit as bob into the same cache').to.equal(bob.name);
      await realm.kdc.kinit(bob.name, { password: bob.password, ccache: own });
      expect(await who(), 'after a renewal by kinit').to.equal(bob.name);
      process.env.KRB5CCNAME = realm.kdc.env.KRB5CCNAME;
      expect(await who(), 'after KRB5CCNAME names another cache').to.equal(alice.name);
      process.env.KRB5CCNAME = own;
      expect(await who()).to.equal(bob.name);
      await realm.kdc.kdestroy(own);
      expect(await who(), 'after kdestroy').to.equal('SEC_E_NO_CREDENTIALS');
    } finally {
      process.env.KRB5CCNAME = saved;
      freeCredentialsHandle(cred);
    }
  });

  it('a context begun with the default credential finishes after the handle rebinds (KRB5CCNAME changed mid-exchange)', async () => {
    const saved = process.env.KRB5CCNAME;
    const other = `FILE:${join(realm.kdc.dir, 'rebind-other')}`;
    await realm.kdc.kinit(realm.kdc.principals.bob.name, { password: realm.kdc.principals.bob.password, ccache: other });
    const cred = await acquireCredentialsHandle();
    const mutual = REQ;
    try {
      const a = await initializeSecurityContext({ credential: cred, targetName: `HTTP/${realm.kdc.hostname}`, contextReq: mutual });
      expect(a.statusName).to.equal('SEC_I_CONTINUE_NEEDED');
      const peerA = await newAcceptor();
      const replyA = await peerA.step(a.output[0].buffer);
      // The handle rebinds to bob's cache for the next context; A's credential must stay alive for A's second leg.
      process.env.KRB5CCNAME = other;
      const b = await initializeSecurityContext({ credential: cred, targetName: `HTTP/${realm.kdc.hostname}`, contextReq: mutual });
      const peerB = await newAcceptor();
      const replyB = await peerB.step(b.output[0].buffer);
      expect([peerA.username, peerB.username]).to.deep.equal([realm.kdc.principals.alice.name, realm.kdc.principals.bob.name]);
      globalThis.gc?.();
      const doneA = await initializeSecurityContext({ context: a.context, contextReq: mutual, input: [{ type: F.SECBUFFER_TOKEN, buffer: replyA }] });
      const doneB = await initializeSecurityContext({ context: b.context, contextReq: mutual, input: [{ type: F.SECBUFFER_TOKEN, buffer: replyB }] });
      expect([doneA.statusName, doneB.statusName]).to.deep.equal(['SEC_E_OK', 'SEC_E_OK']);
      deleteSecurityContext(a.context!);
      deleteSecurityContext(b.context!);
    } finally {
      process.env.KRB5CCNAME = saved;
      freeCredentialsHandle(cred);
    }
  });

  it('50 concurrent first legs on one default-credential handle bind one native credential, released with the handle', async () => {
    const before = liveGssCredentials();
    const cred = await acquireCredentialsHandle();
    const legs = await Promise.all(Array.from({ length: 50 }, () =>
      initializeSecurityContext({ credential: cred, targetName: `HTTP/${realm.kdc.hostname}`, contextReq: REQ })));
    expect(legs.map((r) => r.statusName)).to.deep.equal(Array(50).fill('SEC_I_CONTINUE_NEEDED'));
    // MIT binds the default credential once (gssapi.ts, defaultCred); Heimdal keeps GSS_C_NO_CREDENTIAL.
    expect(liveGssCredentials() - before, 'native credentials held by the handle').to.equal(gssapi().flavour === 'mit' ? 1 : 0);
    for (const r of legs) deleteSecurityContext(r.context!);
    freeCredentialsHandle(cred);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(liveGssCredentials(), 'every acquisition released').to.equal(before);
  });

  it('a handle freed while queryCredentialsAttributes runs on the pool: the query still reads its credential', async () => {
    const { svcClient } = realm.kdc.principals;
    const before = liveGssCredentials();
    const cred = await acquireCredentialsHandle({ keytab: svcClient.keytab, principal: svcClient.name });
    const queries = [queryCredentialsAttributes(cred, SECPKG_CRED_ATTR_NAMES), queryCredentialsAttributes(cred, SECPKG_ATTR_LIFESPAN)];
    expect(freeCredentialsHandle(cred)).to.equal(0);
    const [names, life] = await Promise.all(queries);
    expect(names.value, names.error?.message).to.deep.equal({ userName: svcClient.name });
    expect(life.statusName, life.error?.message).to.equal('SEC_E_OK');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(liveGssCredentials(), 'released once the queries finished').to.equal(before);
  });

  it('refuses contradictory sources with TypeError', async () => {
    await expectAcquireRefused([{ principal: 'bob', password: 'x', keytab: '/k' }, { ccache: 'FILE:/c', forwardable: true }, { ccache: '' }]);
  });
});
