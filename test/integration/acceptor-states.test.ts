// Every public call on a server context, in every state it can be in (fresh, continuing, complete, failed, deleted,
// busy), for both packages: the status each cell gives is the table below (docs/api.md, "The acceptor"), no cell
// crashes, and a refused call leaves the context as it was. Then 200 hostile mutations of real client tokens: each
// is a SEC_E status (never a throw, a crash or success), within bounded time. Runs on MIT (`npm test`) and Heimdal
// (`npm run test:heimdal`).
import { expect } from 'chai';
import {
  ASC_REQ_ALLOCATE_MEMORY,
  ASC_REQ_CONFIDENTIALITY,
  SECPKG_ATTR_NAMES,
  SECPKG_ATTR_NEGOTIATION_INFO,
  SECPKG_ATTR_SIZES,
  SECPKG_CRED_INBOUND,
  acceptSecurityContext,
  acquireCredentialsHandle,
  decryptMessage,
  delegatedCredential,
  deleteSecurityContext,
  encryptMessage,
  freeCredentialsHandle,
  initializeSecurityContext,
  makeSignature,
  queryContextAttributes,
  verifySignature,
  type AcceptResult,
  type ContextHandle,
  type CredentialsHandle,
} from '../../lib/index.js';
import { liveNativeStates } from '../../lib/facade/handles.js';
import * as F from '../../lib/vocabulary/flags.js';
import { gssapi } from '../../ffi/gssapi.js';
import { kdcWithAlice, type Kdc } from '../harness/kdc.js';
import { mulberry32, mutate } from '../harness/mutate.js';

const ISC = F.ISC_REQ_MUTUAL_AUTH | F.ISC_REQ_CONFIDENTIALITY | F.ISC_REQ_INTEGRITY | F.ISC_REQ_USE_DCE_STYLE;
const ASC = ASC_REQ_CONFIDENTIALITY | ASC_REQ_ALLOCATE_MEMORY;
const tokenOf = (r: { output: Array<{ buffer: Uint8Array }> }) => Buffer.from(r.output[0]?.buffer ?? []);
const tok = (b: Buffer) => [{ type: F.SECBUFFER_TOKEN, buffer: b }];

type State = 'continuing' | 'complete' | 'failed' | 'deleted' | 'busy';
type Call = 'asc with token' | 'asc without token' | 'isc' | 'encryptMessage' | 'decryptMessage' | 'makeSignature' | 'verifySignature'
  | 'query NAMES' | 'query SIZES' | 'query NEGOTIATION_INFO' | 'delegatedCredential' | 'deleteSecurityContext';

const OK = 'SEC_E_OK';
const HANDLE = 'SEC_E_INVALID_HANDLE';
const TOKEN = 'SEC_E_INVALID_TOKEN';
const NONE = 'undefined';

/**
 * "asc with token" passes the client's next token: on a continuing context (DCE style) its AP-REP, which completes
 * it; on a complete one the same token again. A busy context has that leg in flight.
 */
const EXPECTED: Record<State, Record<Call, string>> = {
  continuing: {
    'asc with token': OK, 'asc without token': TOKEN, isc: HANDLE, encryptMessage: HANDLE, decryptMessage: HANDLE, makeSignature: HANDLE,
    verifySignature: HANDLE, 'query NAMES': HANDLE, 'query SIZES': HANDLE, 'query NEGOTIATION_INFO': OK, delegatedCredential: NONE, deleteSecurityContext: OK,
  },
  complete: {
    'asc with token': TOKEN, 'asc without token': TOKEN, isc: HANDLE, encryptMessage: OK, decryptMessage: OK, makeSignature: OK,
    verifySignature: OK, 'query NAMES': OK, 'query SIZES': OK, 'query NEGOTIATION_INFO': OK, delegatedCredential: NONE, deleteSecurityContext: OK,
  },
  failed: {
    'asc with token': HANDLE, 'asc without token': TOKEN, isc: HANDLE, encryptMessage: HANDLE, decryptMessage: HANDLE, makeSignature: HANDLE,
    verifySignature: HANDLE, 'query NAMES': HANDLE, 'query SIZES': HANDLE, 'query NEGOTIATION_INFO': HANDLE, delegatedCredential: NONE, deleteSecurityContext: OK,
  },
  deleted: {
    'asc with token': HANDLE, 'asc without token': HANDLE, isc: HANDLE, encryptMessage: HANDLE, decryptMessage: HANDLE, makeSignature: HANDLE,
    verifySignature: HANDLE, 'query NAMES': HANDLE, 'query SIZES': HANDLE, 'query NEGOTIATION_INFO': HANDLE, delegatedCredential: NONE, deleteSecurityContext: HANDLE,
  },
  busy: {
    // acceptSecurityContext queues behind the leg in flight and sees the complete context it leaves; the synchronous
    // calls refuse to touch a context a pool thread is using.
    'asc with token': TOKEN, 'asc without token': TOKEN, isc: HANDLE, encryptMessage: HANDLE, decryptMessage: HANDLE, makeSignature: HANDLE,
    verifySignature: HANDLE, 'query NAMES': HANDLE, 'query SIZES': HANDLE, 'query NEGOTIATION_INFO': HANDLE, delegatedCredential: NONE, deleteSecurityContext: OK,
  },
};

/**
 * Heimdal 7.8's gss_wrap_iov_length refuses a DCE-style context (GSS_S_FAILURE, minor EINVAL), so SIZES, which is
 * computed from it, is SEC_E_INTERNAL_ERROR there: a limit of the library (the continuing state needs DCE style).
 */
function expected(state: State): Record<Call, string> {
  if (state === 'complete' && gssapi().flavour === 'heimdal') return { ...EXPECTED.complete, 'query SIZES': 'SEC_E_INTERNAL_ERROR' };
  return EXPECTED[state];
}

describe('acceptSecurityContext: every call in every server-context state', function () {
  this.timeout(120_000);
  let kdc: Kdc;
  let spn: string;
  const creds: Record<string, CredentialsHandle> = {};

  before(async () => {
    kdc = await kdcWithAlice();
    spn = `HTTP/${kdc.hostname}`;
    for (const pkg of ['Negotiate', 'Kerberos'] as const) {
      creds[`out-${pkg}`] = await acquireCredentialsHandle({ package: pkg });
      creds[`in-${pkg}`] = await acquireCredentialsHandle({ package: pkg, credentialUse: SECPKG_CRED_INBOUND, keytab: kdc.principals.http.keytab });
    }
  });
  after(() => Object.values(creds).forEach((c) => freeCredentialsHandle(c)));

  /** A server context in `state`, the client's next token, a sealed message and a MIC from the client. */
  async function reach(pkg: 'Negotiate' | 'Kerberos', state: State) {
    const c1 = await initializeSecurityContext({ credential: creds[`out-${pkg}`], targetName: spn, contextReq: ISC });
    const s1 = await acceptSecurityContext({ credential: creds[`in-${pkg}`], input: tok(tokenOf(c1)), contextReq: ASC });
    expect(s1.statusName, s1.error?.message).to.equal('SEC_I_CONTINUE_NEEDED');
    const c2 = await initializeSecurityContext({ context: c1.context, contextReq: ISC, input: tok(tokenOf(s1)) });
    const next = tokenOf(c2);
    const context = s1.context!;
    let inflight: Promise<AcceptResult> | undefined;
    if (state === 'complete') {
      const s2 = await acceptSecurityContext({ context, input: tok(next), contextReq: ASC });
      expect(s2.statusName, s2.error?.message).to.equal(OK);
      // The client finishes with the acceptor's last reply (SPNEGO's accept-completed), when there is one.
      if (tokenOf(s2).length > 0 && c2.statusName === 'SEC_I_CONTINUE_NEEDED') await initializeSecurityContext({ context: c1.context, contextReq: ISC, input: tok(tokenOf(s2)) });
    } else if (state === 'failed') {
      const garbage = Buffer.from(next);
      garbage[garbage.length - 3] ^= 0xff;
      const s2 = await acceptSecurityContext({ context, input: tok(garbage), contextReq: ASC });
      expect(s2.status).to.be.lessThan(0);
      expect(s2.context).to.equal(context);
    } else if (state === 'deleted') {
      deleteSecurityContext(context);
    } else if (state === 'busy') {
      inflight = acceptSecurityContext({ context, input: tok(next), contextReq: ASC });
    }
    return { context, next, client: c1.context!, inflight };
  }

  async function call(name: Call, s: Awaited<ReturnType<typeof reach>>): Promise<string> {
    const { context, next } = s;
    // The client's sizes: the server's are what some cells query (a 64-byte guess is too small for AES seals).
    const sizes = queryContextAttributes(s.client, SECPKG_ATTR_SIZES).value ?? { cbSecurityTrailer: 128, cbMaxSignature: 64 };
    switch (name) {
      case 'asc with token': return (await acceptSecurityContext({ context, input: tok(next), contextReq: ASC })).statusName;
      case 'asc without token': return (await acceptSecurityContext({ context, input: [], contextReq: ASC })).statusName;
      case 'isc': return (await initializeSecurityContext({ context, contextReq: 0 })).statusName;
      case 'encryptMessage': return encryptMessage(context, 0, [{ type: F.SECBUFFER_TOKEN, buffer: Buffer.alloc(sizes.cbSecurityTrailer) }, { type: F.SECBUFFER_DATA, buffer: Buffer.from('x') }]).statusName;
      case 'decryptMessage': {
        const sealed = encryptMessage(s.client, 0, [{ type: F.SECBUFFER_TOKEN, buffer: Buffer.alloc(sizes.cbSecurityTrailer) }, { type: F.SECBUFFER_DATA, buffer: Buffer.from('x') }]);
        if (sealed.status !== 0) return decryptMessage(context, [{ type: F.SECBUFFER_STREAM, buffer: Buffer.alloc(64) }, { type: F.SECBUFFER_DATA, buffer: Buffer.alloc(0) }]).statusName;
        return decryptMessage(context, sealed.buffers!.map((b) => ({ type: b.type, buffer: Buffer.from(b.buffer) }))).statusName;
      }
      case 'makeSignature': return makeSignature(context, 0, [{ type: F.SECBUFFER_DATA, buffer: Buffer.from('x') }, { type: F.SECBUFFER_TOKEN, buffer: Buffer.alloc(sizes.cbMaxSignature) }]).statusName;
      case 'verifySignature': {
        const signed = makeSignature(s.client, 0, [{ type: F.SECBUFFER_DATA, buffer: Buffer.from('x') }, { type: F.SECBUFFER_TOKEN, buffer: Buffer.alloc(sizes.cbMaxSignature) }]);
        const mic = signed.status === 0 ? Buffer.from(signed.buffers![1].buffer) : Buffer.alloc(28);
        return verifySignature(context, [{ type: F.SECBUFFER_DATA, buffer: Buffer.from('x') }, { type: F.SECBUFFER_TOKEN, buffer: mic }]).statusName;
      }
      case 'query NAMES': return queryContextAttributes(context, SECPKG_ATTR_NAMES).statusName;
      case 'query SIZES': return queryContextAttributes(context, SECPKG_ATTR_SIZES).statusName;
      case 'query NEGOTIATION_INFO': return queryContextAttributes(context, SECPKG_ATTR_NEGOTIATION_INFO).statusName;
      case 'delegatedCredential': return String(delegatedCredential(context));
      case 'deleteSecurityContext': return ['SEC_E_OK', 'SEC_E_INVALID_HANDLE'][deleteSecurityContext(context) === 0 ? 0 : 1];
    }
  }

  for (const pkg of ['Negotiate', 'Kerberos'] as const) {
    it(`${pkg}: a fresh call without a token, with a client context, or with an outbound credential is refused; nothing is left behind`, async () => {
      const before = liveNativeStates().contexts;
      expect((await acceptSecurityContext({ credential: creds[`in-${pkg}`], input: [], contextReq: ASC })).statusName).to.equal(TOKEN);
      expect((await acceptSecurityContext({ input: tok(Buffer.from([0x60, 0])), contextReq: ASC })).statusName).to.equal('SEC_E_NO_CREDENTIALS');
      const c = await initializeSecurityContext({ credential: creds[`out-${pkg}`], targetName: spn, contextReq: ISC });
      expect((await acceptSecurityContext({ credential: creds[`out-${pkg}`], input: tok(tokenOf(c)), contextReq: ASC })).statusName).to.equal('SEC_E_NO_CREDENTIALS');
      expect((await acceptSecurityContext({ context: c.context, input: tok(tokenOf(c)), contextReq: ASC })).statusName).to.equal(HANDLE);
      expect((await initializeSecurityContext({ credential: creds[`in-${pkg}`], targetName: spn, contextReq: ISC })).statusName).to.equal('SEC_E_NO_CREDENTIALS');
      expect((await acceptSecurityContext({ credential: creds[`in-${pkg}`], input: tok(tokenOf(c)), contextReq: 0x40 })).statusName).to.equal('SEC_E_UNSUPPORTED_FUNCTION');
      deleteSecurityContext(c.context!);
      await new Promise((r) => setTimeout(r, 20));
      expect(liveNativeStates().contexts).to.be.at.most(before);
    });

    for (const state of Object.keys(EXPECTED) as State[]) {
      it(`${pkg}, ${state}: each call gives its status, and a refused call changes nothing`, async () => {
        const got: Record<string, string> = {};
        for (const name of Object.keys(EXPECTED[state]) as Call[]) {
          const s = await reach(pkg, state);
          try {
            got[name] = await call(name, s);
            if (s.inflight) await s.inflight;
            // A refused call on a complete context left it usable.
            if (state === 'complete' && got[name] !== OK && name !== 'deleteSecurityContext') {
              expect(queryContextAttributes(s.context, SECPKG_ATTR_NAMES).statusName, `${name} left the context usable`).to.equal(OK);
            }
          } finally {
            if (s.inflight) await s.inflight.catch(() => undefined);
            deleteSecurityContext(s.context);
            deleteSecurityContext(s.client);
          }
        }
        expect(got).to.deep.equal(expected(state));
      });
    }
  }

  it('200 hostile mutations of real client tokens (first legs, later legs, both packages): a SEC_E status each, never a throw or success', async () => {
    const rng = mulberry32(0x5eed18);
    const statuses = new Map<string, number>();
    const samples: Array<{ pkg: 'Negotiate' | 'Kerberos'; first: Buffer; later?: Buffer }> = [];
    for (const pkg of ['Negotiate', 'Kerberos'] as const) {
      const c = await initializeSecurityContext({ credential: creds[`out-${pkg}`], targetName: spn, contextReq: ISC });
      const s = await acceptSecurityContext({ credential: creds[`in-${pkg}`], input: tok(tokenOf(c)), contextReq: ASC });
      const c2 = await initializeSecurityContext({ context: c.context, contextReq: ISC, input: tok(tokenOf(s)) });
      samples.push({ pkg, first: tokenOf(c), later: tokenOf(c2) });
      deleteSecurityContext(c.context!);
      deleteSecurityContext(s.context!);
    }
    let slowest = 0;
    for (let i = 0; i < 200; i++) {
      const sample = samples[i % samples.length];
      const laterLeg = i % 4 === 3;
      let context: ContextHandle | undefined;
      let input = mutate(sample.first, rng);
      if (laterLeg) {
        // A fresh context that continues (DCE), then a mutation of the client's second token.
        const c = await initializeSecurityContext({ credential: creds[`out-${sample.pkg}`], targetName: spn, contextReq: ISC });
        const s = await acceptSecurityContext({ credential: creds[`in-${sample.pkg}`], input: tok(tokenOf(c)), contextReq: ASC });
        deleteSecurityContext(c.context!);
        context = s.context;
        input = mutate(sample.later!, rng);
      }
      const started = Date.now();
      const r = await acceptSecurityContext({ credential: context ? undefined : creds[`in-${sample.pkg}`], context, input: tok(input), contextReq: ASC });
      slowest = Math.max(slowest, Date.now() - started);
      statuses.set(r.statusName, (statuses.get(r.statusName) ?? 0) + 1);
      // An identical token (a mutation that changed nothing) may be a valid leg; on a first leg it is then a replay.
      if (r.statusName === 'SEC_E_OK' || r.statusName === 'SEC_I_CONTINUE_NEEDED') {
        expect(input.equals(laterLeg ? sample.later! : sample.first), `mutation ${i} succeeded`).to.equal(true);
      } else {
        expect(r.status, `mutation ${i}: ${r.statusName}`).to.be.lessThan(0);
        if (input.length >= 18) expect(r.error?.message ?? '').to.not.include(input.toString('base64').slice(0, 24));
      }
      if (r.context) deleteSecurityContext(r.context);
      if (context) deleteSecurityContext(context);
    }
    expect(slowest, 'the slowest hostile token (ms)').to.be.lessThan(5000);
    expect([...statuses.keys()].every((s) => s.startsWith('SEC_E_') || s === 'SEC_I_CONTINUE_NEEDED')).to.equal(true);
  });
});
