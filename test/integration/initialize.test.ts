// InitializeSecurityContext against a real MIT KDC and an independent acceptor: every return code of Microsoft's InitializeSecurityContext (Negotiate) reference
// that a scenario can produce, through both packages.
import { expect } from 'chai';
import { join } from 'node:path';
import {
  acquireCredentialsHandle,
  completeAuthToken,
  deleteSecurityContext,
  freeContextBuffer,
  freeCredentialsHandle,
  initializeSecurityContext,
  type ContextHandle,
  type CredentialsHandle,
  type InitializeResult,
} from '../../lib/index.js';
import * as F from '../../lib/vocabulary/flags.js';
import * as S from '../../lib/vocabulary/status.js';
import { liveNativeStates } from '../../lib/facade/handles.js';
import { kdcWithAlice } from '../harness/kdc.js';
import { newAcceptor } from '../harness/acceptor.js';
import { isHeimdal, minorTextMatches } from '../harness/flavour.js';
import { KERBEROS_ADDON, realmSuite } from '../harness/realm-suite.js';
import { expectAcquireRefused, expectTypeErrors } from '../harness/refusals.js';
import { needs } from '../harness/skip.js';

const REQ = F.ISC_REQ_MUTUAL_AUTH | F.ISC_REQ_CONFIDENTIALITY | F.ISC_REQ_INTEGRITY | F.ISC_REQ_REPLAY_DETECT | F.ISC_REQ_SEQUENCE_DETECT;
const KRB5_MINOR = {
  S_PRINCIPAL_UNKNOWN: -1765328377,
  PREAUTH_FAILED: -1765328360,
  KDC_UNREACH: -1765328228,
};

const tokenOf = (r: InitializeResult) => Buffer.from(r.output.find((b) => b.type === F.SECBUFFER_TOKEN)?.buffer ?? []);

describe('initializeSecurityContext against a real KDC', function () {
  this.timeout(60_000);
  const realm = realmSuite({ needs: [KERBEROS_ADDON] });

  for (const pkg of ['Negotiate', 'Kerberos'] as const) {
    describe(`package ${pkg}`, () => {
      let cred: CredentialsHandle;
      before(async () => {
        cred = await acquireCredentialsHandle({ package: pkg });
      });
      after(() => freeCredentialsHandle(cred));

      it('completes a mutual-auth exchange: SEC_I_CONTINUE_NEEDED, then SEC_E_OK with ISC_RET_MUTUAL_AUTH', async () => {
        const acceptor = await newAcceptor();
        const first = await initializeSecurityContext({ credential: cred, targetName: realm.spn, contextReq: REQ });
        expect(first.statusName).to.equal('SEC_I_CONTINUE_NEEDED');
        expect(first.context).to.not.equal(undefined);
        const reply = await acceptor.step(tokenOf(first));
        expect(acceptor.complete).to.equal(true);
        expect(acceptor.username).to.equal(realm.kdc.principals.alice.name);
        const second = await initializeSecurityContext({
          credential: cred, context: first.context, targetName: realm.spn, contextReq: REQ,
          input: [{ type: F.SECBUFFER_TOKEN, buffer: reply }],
        });
        expect(second.statusName, second.error?.message).to.equal('SEC_E_OK');
        expect(second.context).to.equal(first.context);
        expect(second.contextAttr & F.ISC_RET_MUTUAL_AUTH).to.equal(F.ISC_RET_MUTUAL_AUTH);
        expect(second.contextAttr & F.ISC_RET_CONFIDENTIALITY).to.equal(F.ISC_RET_CONFIDENTIALITY);
        expect(second.expiry).to.be.instanceOf(Date);
        expect(second.expiry!.getTime()).to.be.greaterThan(Date.now());
        expect(second.output.every((b) => b.buffer.length === 0), 'nothing more to send').to.equal(true);
        expect(deleteSecurityContext(second.context!)).to.equal(S.SEC_E_OK);
      });

      it('accepts the svc@host (host-based) form of the target name', async () => {
        const acceptor = await newAcceptor();
        const first = await initializeSecurityContext({ credential: cred, targetName: `HTTP@${realm.kdc.hostname}`, contextReq: REQ });
        expect(first.statusName).to.equal('SEC_I_CONTINUE_NEEDED');
        await acceptor.step(tokenOf(first));
        expect(acceptor.username).to.equal(realm.kdc.principals.alice.name);
        deleteSecurityContext(first.context!);
      });

      it('gives SEC_E_INVALID_TOKEN for a corrupted reply, keeping the GSS statuses', async () => {
        const acceptor = await newAcceptor();
        const first = await initializeSecurityContext({ credential: cred, targetName: realm.spn, contextReq: REQ });
        const reply = await acceptor.step(tokenOf(first));
        const corrupt = Buffer.from(reply);
        corrupt.fill(0x41, Math.floor(corrupt.length / 3));
        const second = await initializeSecurityContext({ context: first.context, contextReq: REQ, input: [{ type: F.SECBUFFER_TOKEN, buffer: corrupt }] });
        expect(second.statusName).to.equal('SEC_E_INVALID_TOKEN');
        expect(second.gss).to.include.keys('major', 'minor', 'majorText', 'minorText');
        expect(second.error).to.be.instanceOf(S.SecurityError);
        expect(second.context, 'a later leg keeps the context for the caller to delete').to.equal(first.context);
        expect(deleteSecurityContext(first.context!)).to.equal(S.SEC_E_OK);
      });

      it('gives SEC_E_TARGET_UNKNOWN for an SPN the KDC lacks, with the krb5 minor code preserved', async () => {
        const r = await initializeSecurityContext({ credential: cred, targetName: `HTTP/missing.${realm.kdc.hostname}`, contextReq: REQ });
        expect(r.statusName).to.equal('SEC_E_TARGET_UNKNOWN');
        expect(r.gss!.minor).to.equal(KRB5_MINOR.S_PRINCIPAL_UNKNOWN);
        expect(minorTextMatches(r.gss, /not found in Kerberos database/i, 'KRB5KDC_ERR_S_PRINCIPAL_UNKNOWN'), r.gss!.minorText).to.equal(true);
        expect(r.context, 'a failed first call returns no context').to.equal(undefined);
      });

      it('gives SEC_E_WRONG_PRINCIPAL for a mutual-auth reply that belongs to another context', async () => {
        const [a1, a2] = [await newAcceptor(), await newAcceptor()];
        const c1 = await initializeSecurityContext({ credential: cred, targetName: realm.spn, contextReq: REQ });
        const c2 = await initializeSecurityContext({ credential: cred, targetName: realm.spn, contextReq: REQ });
        await a1.step(tokenOf(c1));
        const reply2 = await a2.step(tokenOf(c2));
        const r = await initializeSecurityContext({ context: c1.context, contextReq: REQ, input: [{ type: F.SECBUFFER_TOKEN, buffer: reply2 }] });
        expect(r.statusName, r.error?.message).to.equal('SEC_E_WRONG_PRINCIPAL');
        deleteSecurityContext(c1.context!);
        deleteSecurityContext(c2.context!);
      });
    });
  }

  describe('credentials', () => {
    it('gives SEC_E_LOGON_DENIED for a wrong password, with KRB5KDC_ERR_PREAUTH_FAILED as minor', async () => {
      const cred = await acquireCredentialsHandle({ principal: realm.kdc.principals.bob.name, password: 'not-the-password' });
      const r = await initializeSecurityContext({ credential: cred, targetName: realm.spn, contextReq: REQ });
      expect(r.statusName).to.equal('SEC_E_LOGON_DENIED');
      expect(r.gss!.minor).to.equal(KRB5_MINOR.PREAUTH_FAILED);
      freeCredentialsHandle(cred);
    });

    it('logs on with the right password and authenticates as that principal', async () => {
      const bob = realm.kdc.principals.bob;
      const cred = await acquireCredentialsHandle({ principal: bob.name, password: bob.password });
      expect(cred.expiry).to.be.instanceOf(Date);
      const acceptor = await newAcceptor();
      const r = await initializeSecurityContext({ credential: cred, targetName: realm.spn, contextReq: REQ });
      expect(r.statusName, r.error?.message).to.equal('SEC_I_CONTINUE_NEEDED');
      await acceptor.step(tokenOf(r));
      expect(acceptor.username).to.equal(bob.name);
      deleteSecurityContext(r.context!);
      freeCredentialsHandle(cred);
    });

    it('gives SEC_E_NO_CREDENTIALS with an empty credential cache', async () => {
      const saved = process.env.KRB5CCNAME;
      process.env.KRB5CCNAME = `FILE:${join(realm.kdc.dir, 'no-such-ccache')}`;
      try {
        const cred = await acquireCredentialsHandle();
        const r = await initializeSecurityContext({ credential: cred, targetName: realm.spn, contextReq: REQ });
        expect(r.statusName).to.equal('SEC_E_NO_CREDENTIALS');
        // Heimdal answers with GSS_S_FAILURE and errno ENOENT, where MIT says GSS_S_NO_CRED: same SSPI status.
        if (isHeimdal()) expect(r.gss!.minor).to.equal(2);
        else expect(r.gss!.majorText).to.match(/credentials/i);
        freeCredentialsHandle(cred);
      } finally {
        process.env.KRB5CCNAME = saved;
      }
    });

    it('gives SEC_E_NO_CREDENTIALS for a principal that has no ticket in the cache', async () => {
      const cred = await acquireCredentialsHandle({ principal: realm.kdc.principals.bob.name });
      const r = await initializeSecurityContext({ credential: cred, targetName: realm.spn, contextReq: REQ });
      expect(r.statusName).to.equal('SEC_E_NO_CREDENTIALS');
      freeCredentialsHandle(cred);
    });

    it('gives SEC_E_NO_AUTHENTICATING_AUTHORITY when no KDC of the realm answers, in bounded time', async () => {
      const started = Date.now();
      const cred = await acquireCredentialsHandle({ principal: `alice@${realm.kdc.deadRealm}`, password: 'irrelevant' });
      const r = await initializeSecurityContext({ credential: cred, targetName: realm.spn, contextReq: REQ });
      expect(r.statusName).to.equal('SEC_E_NO_AUTHENTICATING_AUTHORITY');
      expect(r.gss!.minor).to.equal(KRB5_MINOR.KDC_UNREACH);
      expect(Date.now() - started).to.be.lessThan(30_000);
      freeCredentialsHandle(cred);
    });
  });

  describe('parameters', () => {
    let cred: CredentialsHandle;
    before(async () => {
      cred = await acquireCredentialsHandle();
    });
    after(() => freeCredentialsHandle(cred));

    it('gives SEC_E_UNSUPPORTED_FUNCTION for ISC_REQ_PROMPT_FOR_CREDS, naming the flag', async () => {
      const r = await initializeSecurityContext({ credential: cred, targetName: realm.spn, contextReq: REQ | F.ISC_REQ_PROMPT_FOR_CREDS });
      expect(r.statusName).to.equal('SEC_E_UNSUPPORTED_FUNCTION');
      expect(r.error!.message).to.include('ISC_REQ_PROMPT_FOR_CREDS');
    });

    it('allocates the token with ISC_REQ_ALLOCATE_MEMORY and says so in ISC_RET_ALLOCATED_MEMORY', async () => {
      const r = await initializeSecurityContext({
        credential: cred, targetName: realm.spn, contextReq: REQ | F.ISC_REQ_ALLOCATE_MEMORY,
        output: [{ type: F.SECBUFFER_TOKEN, buffer: new Uint8Array(0) }],
      });
      expect(r.statusName).to.equal('SEC_I_CONTINUE_NEEDED');
      expect(r.contextAttr & F.ISC_RET_ALLOCATED_MEMORY).to.equal(F.ISC_RET_ALLOCATED_MEMORY);
      expect(tokenOf(r).length).to.be.greaterThan(100);
      expect(freeContextBuffer(r.output[0].buffer)).to.equal(S.SEC_E_OK);
      deleteSecurityContext(r.context!);
    });

    it('writes the token into a caller-supplied buffer', async () => {
      const mine = new Uint8Array(12_000);
      const r = await initializeSecurityContext({ credential: cred, targetName: realm.spn, contextReq: REQ, output: [{ type: F.SECBUFFER_TOKEN, buffer: mine }] });
      expect(r.statusName).to.equal('SEC_I_CONTINUE_NEEDED');
      expect(r.output[0].buffer.buffer).to.equal(mine.buffer);
      expect(r.contextAttr & F.ISC_RET_ALLOCATED_MEMORY).to.equal(0);
      const acceptor = await newAcceptor();
      await acceptor.step(r.output[0].buffer);
      expect(acceptor.complete).to.equal(true);
      deleteSecurityContext(r.context!);
    });

    it('gives SEC_E_INSUFFICIENT_MEMORY when the caller-supplied buffer is too small', async () => {
      const r = await initializeSecurityContext({
        credential: cred, targetName: realm.spn, contextReq: REQ, output: [{ type: F.SECBUFFER_TOKEN, buffer: new Uint8Array(16) }],
      });
      expect(r.statusName).to.equal('SEC_E_INSUFFICIENT_MEMORY');
      expect(r.error!.message).to.match(/too small/);
      deleteSecurityContext(r.context!);
    });

    it('gives SEC_E_TARGET_UNKNOWN for a target name in no SPN form, without asking the KDC', async () => {
      for (const targetName of ['web.kn.test', 'HTTP/a/b', 'HTTP web']) {
        const r = await initializeSecurityContext({ credential: cred, targetName, contextReq: REQ });
        expect(r.statusName, targetName).to.equal('SEC_E_TARGET_UNKNOWN');
        expect(r.gss!.major).to.equal(0x20000);
        expect(r.error!.message).to.match(/service\/host/);
      }
      const none = await initializeSecurityContext({ credential: cred, contextReq: REQ });
      expect(none.statusName).to.equal('SEC_E_TARGET_UNKNOWN');
    });

    it('accepts both data representations', async () => {
      for (const targetDataRep of [F.SECURITY_NATIVE_DREP, F.SECURITY_NETWORK_DREP]) {
        const r = await initializeSecurityContext({ credential: cred, targetName: realm.spn, contextReq: REQ, targetDataRep });
        expect(r.statusName).to.equal('SEC_I_CONTINUE_NEEDED');
        deleteSecurityContext(r.context!);
      }
    });

    it('throws TypeError for programmer errors', async () => {
      const bad: Array<Record<string, unknown>> = [
        { credential: cred, targetName: realm.spn, contextReq: -1 },
        { credential: cred, targetName: realm.spn, contextReq: REQ, reserved1: 1 },
        { credential: cred, targetName: realm.spn, contextReq: REQ, reserved2: 7 },
        { credential: cred, targetName: realm.spn, contextReq: REQ, targetDataRep: 3 },
        { credential: cred, targetName: 42, contextReq: REQ },
        { credential: cred, targetName: realm.spn, contextReq: REQ, input: 'token' },
        { credential: cred, targetName: realm.spn, contextReq: REQ, inptu: [] },
        { credential: 'cred', targetName: realm.spn, contextReq: REQ },
      ];
      await expectTypeErrors((options) => initializeSecurityContext(options as never), bad);
      await expectAcquireRefused([{ password: 'x' }, { package: 'NTLM' }, { use: 'inbound' }, { keytab: 1 }] as never[]);
    });

    it('starts a re-authentication when called again on a completed context', async () => {
      const krb = await acquireCredentialsHandle({ package: 'Kerberos' });
      const first = await initializeSecurityContext({ credential: krb, targetName: realm.spn, contextReq: REQ & ~F.ISC_REQ_MUTUAL_AUTH });
      expect(first.statusName, 'Kerberos without mutual auth completes in one leg').to.equal('SEC_E_OK');
      const again = await initializeSecurityContext({ credential: krb, context: first.context, targetName: realm.spn, contextReq: REQ & ~F.ISC_REQ_MUTUAL_AUTH });
      expect(again.statusName).to.equal('SEC_E_OK');
      expect(again.context).to.equal(first.context);
      expect(again.contextAttr & F.ISC_RET_REAUTHENTICATION).to.equal(F.ISC_RET_REAUTHENTICATION);
      expect(tokenOf(again).equals(tokenOf(first))).to.equal(false);
      const acceptor = await newAcceptor();
      await acceptor.step(tokenOf(again));
      expect(acceptor.complete).to.equal(true);
      deleteSecurityContext(first.context!);
      freeCredentialsHandle(krb);
    });
  });

  describe('handles', () => {
    it('gives SEC_E_INVALID_HANDLE for a deleted context, a freed credential and a double free', async () => {
      const cred = await acquireCredentialsHandle();
      const r = await initializeSecurityContext({ credential: cred, targetName: realm.spn, contextReq: REQ });
      expect(deleteSecurityContext(r.context!)).to.equal(S.SEC_E_OK);
      expect(r.context!.freed).to.equal(true);
      expect(deleteSecurityContext(r.context!)).to.equal(S.SEC_E_INVALID_HANDLE);
      const again = await initializeSecurityContext({ context: r.context, contextReq: REQ, input: [{ type: F.SECBUFFER_TOKEN, buffer: Buffer.from([0x60]) }] });
      expect(again.statusName).to.equal('SEC_E_INVALID_HANDLE');
      expect(completeAuthToken(r.context!)).to.equal(S.SEC_E_INVALID_HANDLE);
      expect(freeCredentialsHandle(cred)).to.equal(S.SEC_E_OK);
      expect(freeCredentialsHandle(cred)).to.equal(S.SEC_E_INVALID_HANDLE);
      const afterFree = await initializeSecurityContext({ credential: cred, targetName: realm.spn, contextReq: REQ });
      expect(afterFree.statusName).to.equal('SEC_E_INVALID_HANDLE');
    });

    it('gives SEC_E_INVALID_HANDLE for a handle of the wrong kind', async () => {
      const cred = await acquireCredentialsHandle();
      const r = await initializeSecurityContext({ credential: cred, context: cred as never, targetName: realm.spn, contextReq: REQ });
      expect(r.statusName).to.equal('SEC_E_INVALID_HANDLE');
      freeCredentialsHandle(cred);
    });

    it('keeps a context working after its credential was freed, and frees with `using`', async () => {
      const cred = await acquireCredentialsHandle();
      const acceptor = await newAcceptor();
      const first = await initializeSecurityContext({ credential: cred, targetName: realm.spn, contextReq: REQ });
      freeCredentialsHandle(cred);
      const reply = await acceptor.step(tokenOf(first));
      {
        using ctx = first.context!;
        const second = await initializeSecurityContext({ context: ctx, contextReq: REQ, input: [{ type: F.SECBUFFER_TOKEN, buffer: reply }] });
        expect(second.statusName).to.equal('SEC_E_OK');
      }
      expect(first.context!.freed).to.equal(true);
    });

    it('serializes concurrent calls on one context', async () => {
      const cred = await acquireCredentialsHandle();
      const acceptor = await newAcceptor();
      const first = await initializeSecurityContext({ credential: cred, targetName: realm.spn, contextReq: REQ });
      const reply = await acceptor.step(tokenOf(first));
      const input = [{ type: F.SECBUFFER_TOKEN, buffer: reply }];
      const [a, b] = await Promise.all([
        initializeSecurityContext({ context: first.context, contextReq: REQ, input }),
        initializeSecurityContext({ context: first.context, contextReq: REQ, input }),
      ]);
      expect(a.statusName).to.equal('SEC_E_OK');
      // Our SPNEGO layer refuses a token after completion (docs/status-mapping.md), on MIT and Heimdal alike.
      expect(b.statusName, 'the second call sees a completed context').to.equal('SEC_E_INVALID_TOKEN');
      deleteSecurityContext(first.context!);
      freeCredentialsHandle(cred);
    });

    it('completeAuthToken and freeContextBuffer are accepted no-ops for ported code', async () => {
      const cred = await acquireCredentialsHandle();
      const r = await initializeSecurityContext({ credential: cred, targetName: realm.spn, contextReq: REQ });
      expect(completeAuthToken(r.context!, r.output)).to.equal(S.SEC_E_OK);
      expect(freeContextBuffer(r.output[0].buffer)).to.equal(S.SEC_E_OK);
      deleteSecurityContext(r.context!);
      freeCredentialsHandle(cred);
    });
  });
});

describe('forgotten handles', function () {
  this.timeout(60_000);

  it('are released by the FinalizationRegistry once garbage-collected', async function () {
    // .mocharc.json runs node with --expose-gc; without it the collector cannot be driven from a test.
    needs(this, typeof globalThis.gc === 'function', 'node runs without --expose-gc (.mocharc.json passes it)');
    const kdc = await kdcWithAlice();
    // Held while counted: other tests' forgotten handles may be collected meanwhile (the collector runs when it
    // likes, more eagerly on newer V8), so the count is taken with ours alive and compared after they are dropped.
    // In a function of their own, so that no variable of this one keeps the last handles alive.
    const during = await (async () => {
      const held: Array<{ cred: CredentialsHandle; context?: ContextHandle }> = [];
      for (let i = 0; i < 20; i++) {
        const cred = await acquireCredentialsHandle();
        const r = await initializeSecurityContext({ credential: cred, targetName: `HTTP/${kdc.hostname}`, contextReq: REQ });
        held.push({ cred, context: r.context });
      }
      expect(held.every((h) => h.context && !h.context.freed && !h.cred.freed)).to.equal(true);
      return liveNativeStates();
    })();
    const target = { contexts: during.contexts - 20, credentials: during.credentials - 20 };
    for (let i = 0; i < 50 && (liveNativeStates().contexts > target.contexts || liveNativeStates().credentials > target.credentials); i++) {
      globalThis.gc!();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // Others' forgotten handles may be collected too: the counts can only fall further.
    expect(liveNativeStates().contexts).to.be.at.most(target.contexts);
    expect(liveNativeStates().credentials).to.be.at.most(target.credentials);
  });
});
