// The SPNEGO acceptor state machine (lib/protocol/acceptor.ts) over a real Kerberos acceptor: python-gssapi's krb5
// mechanism (MIT), fed the raw mechanism tokens the machine unwraps, against our own initiator. The machine is not
// wired to a provider yet (issue 18); this shows its framing, OID choice, mechListMIC and reject paths work with real
// Kerberos tokens, MICs and errors, not only with the unit tests' fake mechanism.
import { expect } from 'chai';
import {
  deleteSecurityContext,
  initializeSecurityContext,
  type InitializeResult,
} from '../../lib/index.js';
import { AcceptorMachine } from '../../lib/protocol/acceptor.js';
import { SpnegoFailure } from '../../lib/protocol/failure.js';
import type { MechanismStep, SpnegoMechanism } from '../../lib/protocol/mechanism.js';
import { KERBEROS_OIDS, MECH_OID } from '../../lib/protocol/oids.js';
import { decodeNegToken, encodeNegTokenInit, type NegTokenInit, type NegTokenResp } from '../../lib/protocol/tokens.js';
import * as F from '../../lib/vocabulary/flags.js';
import { FAKETIME_MISSING, LIBFAKETIME, PythonAcceptor } from '../harness/python-acceptor.js';
import { PYTHON_GSSAPI, realmSuite } from '../harness/realm-suite.js';
import { needs } from '../harness/skip.js';

const REQ = F.ISC_REQ_MUTUAL_AUTH | F.ISC_REQ_CONFIDENTIALITY | F.ISC_REQ_INTEGRITY;
const KRB5KRB_AP_ERR_SKEW = -1765328347;
const tokenOf = (r: InitializeResult) => Buffer.from(r.output[0]?.buffer ?? []);

/** python-gssapi's acceptor context as a SPNEGO mechanism; `users` collects who it authenticated. */
function pythonKrb5(py: PythonAcceptor, users: string[], requiresMic = false): SpnegoMechanism<MechanismStep, string> {
  return {
    oids: KERBEROS_OIDS,
    requiresMic,
    async step(input) {
      const s = await py.step(input!);
      if (s.error) return { failure: s.error, token: s.token.length > 0 ? s.token : undefined };
      if (s.user) users.push(s.user);
      return { complete: s.complete, token: s.token };
    },
    async getMic(message) {
      const s = await py.mic(message);
      return s.error ? { failure: s.error } : s.token;
    },
    async verifyMic(message, mic) {
      const s = await py.verify(message, mic);
      return s.error ? { failure: s.error } : undefined;
    },
  };
}


describe('the SPNEGO acceptor machine over a real krb5 acceptor (python-gssapi)', function () {
  this.timeout(60_000);
  // .ci/run installs python3-gssapi; on a machine without it these exchanges cannot run.
  const realm = realmSuite({ needs: [PYTHON_GSSAPI], credentials: { Negotiate: { package: 'Negotiate' }, Kerberos: { package: 'Kerberos' } } });

  interface Options {
    pkg?: 'Negotiate' | 'Kerberos';
    contextReq?: number;
    requiresMic?: boolean;
    clock?: string;
    /** Rewrites our first token before the acceptor sees it (another mechanism list, ...). */
    first?: (token: Buffer) => Buffer;
  }

  /** Our initiator against the machine, leg by leg, until neither side has anything to send. */
  async function exchange(opts: Options = {}) {
    const py = new PythonAcceptor(realm.kdc.env, opts.clock);
    const users: string[] = [];
    const replies: Buffer[] = [];
    const contextReq = opts.contextReq ?? REQ;
    try {
      await py.start(`HTTP@${realm.kdc.hostname}`);
      const machine = new AcceptorMachine([pythonKrb5(py, users, opts.requiresMic)]);
      let r = await initializeSecurityContext({ credential: realm.creds[opts.pkg ?? 'Negotiate'], targetName: realm.spn, contextReq });
      const context = r.context;
      let token = opts.first ? opts.first(tokenOf(r)) : tokenOf(r);
      let accepted: Awaited<ReturnType<typeof machine.step>> | undefined;
      for (let i = 0; i < 6 && token.length > 0; i++) {
        accepted = await machine.step(token);
        const reply = accepted.token ?? Buffer.alloc(0);
        replies.push(reply);
        if (reply.length === 0 || r.statusName !== 'SEC_I_CONTINUE_NEEDED') break;
        r = await initializeSecurityContext({ context, contextReq, input: [{ type: F.SECBUFFER_TOKEN, buffer: reply }] });
        token = r.statusName === 'SEC_E_OK' || r.statusName === 'SEC_I_CONTINUE_NEEDED' ? tokenOf(r) : Buffer.alloc(0);
      }
      if (context) deleteSecurityContext(context);
      return { result: r, accepted: accepted!, replies, users, selected: machine.selected };
    } finally {
      py.close();
    }
  }

  const respOf = (token: Buffer) => decodeNegToken(token).token as NegTokenResp;

  it('our Negotiate initiator completes with mutual authentication; the acceptor saw alice', async () => {
    const { result, accepted, replies, users, selected } = await exchange();
    expect(result.statusName, result.error?.message).to.equal('SEC_E_OK');
    if (accepted instanceof SpnegoFailure) expect.fail(`${accepted.reason}: ${accepted.detail}`);
    expect(accepted.complete).to.equal(true);
    expect(users).to.deep.equal([realm.kdc.principals.alice.name]);
    expect(respOf(replies[0])).to.include({ negState: 'accept-completed', supportedMech: MECH_OID.KRB5 });
    expect(selected).to.include({ oid: MECH_OID.KRB5, framing: 'spnego' });
  });

  it('without mutual authentication, and DCE style (accept-incomplete, then the initiator\'s third token)', async () => {
    const plain = await exchange({ contextReq: REQ & ~F.ISC_REQ_MUTUAL_AUTH });
    expect(plain.result.statusName, plain.result.error?.message).to.equal('SEC_E_OK');
    const dce = await exchange({ contextReq: REQ | F.ISC_REQ_USE_DCE_STYLE });
    expect(dce.result.statusName, dce.result.error?.message).to.equal('SEC_E_OK');
    expect(dce.replies.map((t) => respOf(t).negState)).to.deep.equal(['accept-incomplete', 'accept-completed']);
    expect(dce.users).to.deep.equal([realm.kdc.principals.alice.name]);
  });

  it('a Windows-ordered list (Microsoft\'s Kerberos OID first) is answered with that OID, and our initiator completes', async () => {
    const windows = (token: Buffer) => {
      const init = decodeNegToken(token).token as NegTokenInit;
      return encodeNegTokenInit({ mechTypes: [MECH_OID.MS_KRB5, MECH_OID.KRB5, MECH_OID.NTLM], mechToken: init.mechToken });
    };
    const { result, replies, selected } = await exchange({ first: windows });
    expect(respOf(replies[0]).supportedMech).to.equal(MECH_OID.MS_KRB5);
    expect(selected!.oid).to.equal(MECH_OID.MS_KRB5);
    expect(result.statusName, result.error?.message).to.equal('SEC_E_OK');
  });

  it('a mechanism that requires the mechListMIC: real MICs verify both ways and both sides complete', async () => {
    const { result, accepted, replies } = await exchange({ requiresMic: true });
    expect(result.statusName, result.error?.message).to.equal('SEC_E_OK');
    if (accepted instanceof SpnegoFailure) expect.fail(`${accepted.reason}: ${accepted.detail}`);
    expect(accepted.complete).to.equal(true);
    expect(respOf(replies[0]).negState).to.equal('request-mic');
    expect(respOf(replies[0]).mechListMIC?.length).to.be.greaterThan(0);
    expect(respOf(replies[1]).negState).to.equal('accept-completed');
  });

  it('a raw Kerberos AP-REQ (the Kerberos package) is accepted raw and answered with a raw AP-REP', async () => {
    const { result, replies, selected } = await exchange({ pkg: 'Kerberos' });
    expect(result.statusName, result.error?.message).to.equal('SEC_E_OK');
    expect(selected).to.include({ oid: MECH_OID.KRB5, framing: 'raw' });
    // RFC 2743 framing with the krb5 OID and TOK_ID 02 00 (AP-REP), not a NegTokenResp.
    expect(replies[0][0]).to.equal(0x60);
    expect(replies[0].indexOf(Buffer.from('06092a864886f7120102020200', 'hex'))).to.be.within(2, 6);
  });

  it('an acceptor 2 hours ahead rejects with the KRB-ERROR, which our initiator reads as SEC_E_TIME_SKEW', async function () {
    needs(this, LIBFAKETIME !== undefined, FAKETIME_MISSING);
    const { result, accepted, replies } = await exchange({ clock: '+2h' });
    expect(accepted).to.be.instanceOf(SpnegoFailure);
    expect((accepted as SpnegoFailure).reason).to.equal('mechanism');
    expect((accepted as SpnegoFailure<string>).mechanism).to.match(/skew/i);
    const reject = respOf(replies[0]);
    expect(reject.negState).to.equal('reject');
    expect(reject.responseToken?.length).to.be.greaterThan(0);
    expect(result.statusName).to.equal('SEC_E_TIME_SKEW');
    expect(result.gss!.minor).to.equal(KRB5KRB_AP_ERR_SKEW);
  });
});
