// The provider-level suite, part 3: the context-state model. Every public call on a context, in every state a
// context can be in, for both packages, against the independent peer: the status each cell gives is the table
// below (docs/api.md, "Context states"), no cell crashes, and a call that is refused leaves the context as it was.
// It runs on GSS-API (MIT in `npm test`, Heimdal in `npm run test:heimdal`) and under Wine (`npm run test:wine`).
//
// Why a model and not a list: a token passed to a completed Kerberos-package context used to reach
// gss_init_sec_context, which deleted the context (MIT) or freed it under a handle that stayed set, so that the next
// gss_inquire_context crashed the process (Heimdal).
import { expect } from 'chai';
import {
  SECBUFFER_DATA, SECBUFFER_TOKEN, SECPKG_ATTR_NAMES, SECPKG_ATTR_NEGOTIATION_INFO, SECPKG_ATTR_SIZES, SEC_E_INVALID_HANDLE, acquireCredentialsHandle,
  decryptMessage, deleteSecurityContext, encryptMessage, freeCredentialsHandle, initializeSecurityContext, makeSignature,
  queryContextAttributes, statusName, verifySignature, type ContextHandle, type CredentialsHandle, type InitializeResult,
  type SecPkgContextSizes,
} from '../../lib/index.js';
import { REQ } from './establish.js';
import { openLayout, sealLayout } from './layouts.js';
import { openPeer, type Peer } from './peer.js';
import { providerLabel, wine } from './platform.js';
import { providerSuite } from './setup.js';

type State = 'continuing' | 'complete' | 'failed' | 'deleted' | 'busy';
type Call = 'isc without token' | 'isc with token' | 'encryptMessage' | 'decryptMessage' | 'makeSignature' | 'verifySignature'
  | 'query SIZES' | 'query NEGOTIATION_INFO' | 'deleteSecurityContext';

const OK = 'SEC_E_OK';
const CONTINUE = 'SEC_I_CONTINUE_NEEDED';
const HANDLE = 'SEC_E_INVALID_HANDLE';
const TOKEN = 'SEC_E_INVALID_TOKEN';

/**
 * The expected status of each cell. "isc with token" passes the peer's reply: on a continuing context that is the
 * next leg; on a complete one it is the same reply a second time. A busy context has its second leg in flight.
 */
const EXPECTED: Record<State, Record<Call, string>> = {
  continuing: {
    'isc without token': TOKEN, 'isc with token': OK, encryptMessage: HANDLE, decryptMessage: HANDLE, makeSignature: HANDLE,
    verifySignature: HANDLE, 'query SIZES': HANDLE, 'query NEGOTIATION_INFO': OK, deleteSecurityContext: OK,
  },
  complete: {
    // Without a token: a re-authentication (the contract's last remark), which starts a new first leg in place.
    'isc without token': CONTINUE, 'isc with token': TOKEN, encryptMessage: OK, decryptMessage: OK, makeSignature: OK,
    verifySignature: OK, 'query SIZES': OK, 'query NEGOTIATION_INFO': OK, deleteSecurityContext: OK,
  },
  failed: {
    'isc without token': HANDLE, 'isc with token': HANDLE, encryptMessage: HANDLE, decryptMessage: HANDLE, makeSignature: HANDLE,
    verifySignature: HANDLE, 'query SIZES': HANDLE, 'query NEGOTIATION_INFO': HANDLE, deleteSecurityContext: OK,
  },
  deleted: {
    'isc without token': HANDLE, 'isc with token': HANDLE, encryptMessage: HANDLE, decryptMessage: HANDLE, makeSignature: HANDLE,
    verifySignature: HANDLE, 'query SIZES': HANDLE, 'query NEGOTIATION_INFO': HANDLE, deleteSecurityContext: HANDLE,
  },
  busy: {
    // ISC calls queue behind the leg in flight and see the complete context it leaves; the synchronous calls
    // refuse to touch a context that a pool thread is using.
    'isc without token': CONTINUE, 'isc with token': TOKEN, encryptMessage: HANDLE, decryptMessage: HANDLE, makeSignature: HANDLE,
    verifySignature: HANDLE, 'query SIZES': HANDLE, 'query NEGOTIATION_INFO': HANDLE, deleteSecurityContext: OK,
  },
};

/** Where Wine's secur32 answers otherwise (docs/platforms.md, "Wine's deviations"). */
function expected(state: State, call: Call): string {
  // Wine's raw krb5 mechanism rejects a corrupted AP-REP as GSS_S_FAILURE, which it maps to SEC_E_INTERNAL_ERROR.
  return EXPECTED[state][call];
}

interface Cell {
  peer: Peer;
  context: ContextHandle;
  reply: Buffer;
  /** A sealed message and a MIC from the peer, made before the state is reached (a busy state cannot wait). */
  sealed: Buffer;
  mic: Buffer;
  /** The busy state's second leg, still running when the call under test is made. */
  inflight?: Promise<InitializeResult>;
}

describe(`provider: every call in every context state (${providerLabel})`, function () {
  this.timeout(60_000);
  const suite = providerSuite();
  const creds = {} as Record<'Negotiate' | 'Kerberos', CredentialsHandle>;
  let sizes: SecPkgContextSizes;

  before(async function () {
    creds.Negotiate = suite.cred;
    creds.Kerberos = await acquireCredentialsHandle({ package: 'Kerberos' });
  });
  after(() => creds.Kerberos && freeCredentialsHandle(creds.Kerberos));

  async function reach(pkg: 'Negotiate' | 'Kerberos', state: State): Promise<Cell> {
    const peer = await openPeer(suite.realm);
    const first = await initializeSecurityContext({ credential: creds[pkg], targetName: suite.realm.spn, contextReq: REQ });
    expect(first.statusName, first.error?.message).to.equal(CONTINUE);
    const context = first.context!;
    const answer = await peer.step(first.output[0].buffer);
    expect(answer.error, 'the peer accepts our first token').to.equal(null);
    const reply = Buffer.from(answer.token);
    const leg = (token: Uint8Array) => initializeSecurityContext({ context, contextReq: REQ, input: [{ type: SECBUFFER_TOKEN, buffer: token }] });
    const sealed = Buffer.from((await peer.wrap(Buffer.from('from the peer'), true)).token);
    const mic = Buffer.from((await peer.mic(Buffer.from('signed by the peer'))).token);
    const cell: Cell = { peer, context, reply, sealed, mic };
    if (state === 'complete') {
      const done = await leg(reply);
      expect(done.statusName, done.error?.message).to.equal(OK);
      sizes ??= queryContextAttributes(context, SECPKG_ATTR_SIZES).value!;
    } else if (state === 'failed') {
      const corrupted = Buffer.from(reply);
      corrupted.fill(0x41, Math.floor(corrupted.length / 3));
      const failed = await leg(corrupted);
      // Wine: SEC_E_INTERNAL_ERROR for an undecodable AP-REP (status_gss_to_sspi in Wine's dlls/kerberos/unixlib.c).
      expect(failed.statusName).to.equal(wine ? 'SEC_E_INTERNAL_ERROR' : TOKEN);
    } else if (state === 'deleted') {
      expect(deleteSecurityContext(context)).to.equal(0);
    } else if (state === 'busy') {
      cell.inflight = leg(reply);
    }
    return cell;
  }

  /** Makes the call under test; resolves to the status name it gave. */
  async function make(call: Call, cell: Cell): Promise<string> {
    const { context } = cell;
    const trailer = sizes?.cbMaxSignature ?? 64;
    switch (call) {
      case 'isc without token':
        return (await initializeSecurityContext({ context, contextReq: REQ })).statusName;
      case 'isc with token':
        return (await initializeSecurityContext({ context, contextReq: REQ, input: [{ type: SECBUFFER_TOKEN, buffer: cell.reply }] })).statusName;
      case 'encryptMessage':
        return encryptMessage(context, 0, sealLayout(Buffer.from('model'), sizes ?? { cbMaxToken: 0, cbMaxSignature: 64, cbBlockSize: 16, cbSecurityTrailer: 64 }).buffers).statusName;
      case 'decryptMessage':
        return decryptMessage(context, openLayout(cell.sealed)).statusName;
      case 'makeSignature':
        return makeSignature(context, 0, [{ type: SECBUFFER_DATA, buffer: Buffer.from('model') }, { type: SECBUFFER_TOKEN, buffer: new Uint8Array(trailer) }]).statusName;
      case 'verifySignature':
        return verifySignature(context, [{ type: SECBUFFER_DATA, buffer: Buffer.from('signed by the peer') }, { type: SECBUFFER_TOKEN, buffer: cell.mic }]).statusName;
      case 'query SIZES':
        return queryContextAttributes(context, SECPKG_ATTR_SIZES).statusName;
      case 'query NEGOTIATION_INFO':
        return queryContextAttributes(context, SECPKG_ATTR_NEGOTIATION_INFO).statusName;
      case 'deleteSecurityContext':
        return statusName(deleteSecurityContext(context));
    }
  }

  /** After the call: a context that should still work is proved to, by a signature the peer verifies. */
  async function stillUsable(cell: Cell): Promise<void> {
    const data = Buffer.from('still usable');
    sizes ??= queryContextAttributes(cell.context, SECPKG_ATTR_SIZES).value!;
    const signed = makeSignature(cell.context, 0, [{ type: SECBUFFER_DATA, buffer: data }, { type: SECBUFFER_TOKEN, buffer: new Uint8Array(sizes.cbMaxSignature) }]);
    expect(signed.statusName, signed.error?.message).to.equal(OK);
    expect((await cell.peer.verify(data, signed.buffers![1].buffer)).error, 'the peer verifies the signature').to.equal(null);
    // gss_inquire_context: where Heimdal crashed on a context a stray token had freed. (Wine answers only SIZES and
    // NEGOTIATION_INFO.)
    if (!wine) expect(queryContextAttributes(cell.context, SECPKG_ATTR_NAMES).statusName).to.equal(OK);
  }

  for (const pkg of ['Negotiate', 'Kerberos'] as const) {
    for (const state of Object.keys(EXPECTED) as State[]) {
      for (const call of Object.keys(EXPECTED[state]) as Call[]) {
        const want = expected(state, call);
        it(`${pkg}, ${state}: ${call} gives ${want}`, async () => {
          const cell = await reach(pkg, state);
          try {
            expect(await make(call, cell)).to.equal(want);
            if (cell.inflight) {
              const second = await cell.inflight;
              expect(second.statusName, 'the leg that was in flight').to.equal(OK);
            }
            const deleted = call === 'deleteSecurityContext' || state === 'deleted';
            if (!deleted && (state === 'complete' || state === 'busy') && call !== 'isc without token') await stillUsable(cell);
            if (!deleted && state === 'continuing' && call !== 'isc with token') {
              // A refused call left the exchange where it was: the peer's reply still completes it.
              const done = await initializeSecurityContext({ context: cell.context, contextReq: REQ, input: [{ type: SECBUFFER_TOKEN, buffer: cell.reply }] });
              expect(done.statusName, done.error?.message).to.equal(OK);
              await stillUsable(cell);
            }
            if (!deleted && state === 'failed') {
              // Whatever was called, the failed context is still refused, and deleting it works once.
              expect(makeSignature(cell.context, 0, [{ type: SECBUFFER_DATA, buffer: Buffer.from('x') }, { type: SECBUFFER_TOKEN, buffer: new Uint8Array(64) }]).statusName).to.equal(HANDLE);
            }
          } finally {
            if (!cell.context.freed) expect(deleteSecurityContext(cell.context)).to.equal(0);
            expect(deleteSecurityContext(cell.context), 'a second delete').to.equal(SEC_E_INVALID_HANDLE);
            cell.peer.close();
          }
        });
      }
    }
  }

  it('Kerberos: three concurrent legs with the same reply complete once; the others are SEC_E_INVALID_TOKEN and the context works', async () => {
    const cell = await reach('Kerberos', 'continuing');
    try {
      const input = [{ type: SECBUFFER_TOKEN, buffer: cell.reply }];
      const results = await Promise.all([0, 1, 2].map(() => initializeSecurityContext({ context: cell.context, contextReq: REQ, input })));
      expect(results.map((r) => r.statusName)).to.deep.equal([OK, TOKEN, TOKEN]);
      sizes ??= queryContextAttributes(cell.context, SECPKG_ATTR_SIZES).value!;
      await stillUsable(cell);
      expect(queryContextAttributes(cell.context, SECPKG_ATTR_SIZES).statusName).to.equal(OK);
    } finally {
      deleteSecurityContext(cell.context);
      cell.peer.close();
    }
  });
});
