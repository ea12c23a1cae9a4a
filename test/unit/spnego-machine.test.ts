// The SPNEGO state machines (lib/spnego/initiator.ts, lib/spnego/acceptor.ts) over a fake mechanism: every
// transition of each half, the two halves talking to each other, and hostile input. What real acceptors make of the
// initiator is judged by test/integration/spnego.test.ts.
import { expect } from 'chai';
import { SpnegoFailure, GSS_S_BAD_MECH, GSS_S_BAD_MIC, GSS_S_DEFECTIVE_TOKEN } from '../../lib/spnego/failure.js';
import { InitiatorMachine } from '../../lib/spnego/initiator.js';
import { MECH_OID } from '../../lib/spnego/oids.js';
import { decodeNegToken, encodeMechTypeList, encodeNegTokenInit, encodeNegTokenResp, type NegTokenInit, type NegTokenResp } from '../../lib/spnego/tokens.js';
import { FakeMechanism, type FakeFailure } from '../harness/fake-mechanism.js';

function ok<T extends object>(r: T | SpnegoFailure<FakeFailure>): T {
  if (r instanceof SpnegoFailure) expect.fail(`${r.reason}: ${r.detail}`);
  return r as T;
}

function failed(r: object, reason: string, major?: number): SpnegoFailure<FakeFailure> {
  expect(r, 'a SpnegoFailure').to.be.instanceOf(SpnegoFailure);
  const f = r as SpnegoFailure<FakeFailure>;
  expect(f.reason, f.detail).to.equal(reason);
  if (major !== undefined) expect(f.major).to.equal(major);
  return f;
}

function initOf(token: Buffer): NegTokenInit {
  const d = decodeNegToken(token);
  expect(d.kind).to.equal('init');
  return d.token as NegTokenInit;
}

function respOf(token: Buffer): NegTokenResp {
  const d = decodeNegToken(token);
  expect(d.kind).to.equal('resp');
  return d.token as NegTokenResp;
}

/** The MIC the acceptor side of the fake makes over our offered list (krb5 alone): what a real acceptor would send. */
function acceptorMic(key = 'shared', list: readonly string[] = [MECH_OID.KRB5]): Buffer {
  const peer = new FakeMechanism('acceptor', { key, legs: 0 });
  peer.complete = true;
  return peer.getMic(encodeMechTypeList(list)) as Buffer;
}

describe('SPNEGO state machine: the initiator half', () => {
  async function started(options: ConstructorParameters<typeof FakeMechanism>[1] = {}) {
    const mech = new FakeMechanism('initiator', options);
    const machine = new InitiatorMachine(mech);
    const first = ok(await machine.start());
    return { mech, machine, first };
  }

  it('starts with a NegTokenInit offering its mechanism\'s first OID and the optimistic token, never complete', async () => {
    const { first } = await started();
    expect(first.complete).to.equal(false);
    const init = initOf(first.token);
    expect(init.mechTypes).to.deep.equal([MECH_OID.KRB5]);
    expect(init.mechToken).to.deep.equal(FakeMechanism.token(1));
    expect(first.mechStep.leg).to.equal(1);
  });

  it('offers a mechanism under its own first OID', async () => {
    const { first } = await started({ oids: [MECH_OID.NTLM] });
    expect(initOf(first.token).mechTypes).to.deep.equal([MECH_OID.NTLM]);
  });

  it('hands back the mechanism\'s failure on the first leg as it is', async () => {
    const machine = new InitiatorMachine(new FakeMechanism('initiator', { failStep: 1 }));
    const f = failed(await machine.start(), 'mechanism');
    expect(f.mechanism).to.deep.equal({ fake: 'step 1 fails' });
  });

  it('completes on accept-completed with the mechanism\'s reply (mutual authentication), with nothing to send', async () => {
    const { machine, mech } = await started();
    const done = ok(await machine.continue(encodeNegTokenResp({ negState: 'accept-completed', supportedMech: MECH_OID.KRB5, responseToken: FakeMechanism.token(2) })));
    expect(done.complete).to.equal(true);
    expect(done.token.length).to.equal(0);
    expect(done.mechStep.leg).to.equal(2);
    expect(mech.received).to.deep.equal([FakeMechanism.token(2)]);
  });

  it('completes with a one-token mechanism (no mutual authentication) on a bare accept-completed', async () => {
    const { machine, mech } = await started({ legs: 1 });
    const done = ok(await machine.continue(encodeNegTokenResp({ negState: 'accept-completed', supportedMech: MECH_OID.KRB5 })));
    expect(done.complete).to.equal(true);
    expect(mech.received).to.have.length(0);
  });

  it('treats a reply without negState as accept-completed', async () => {
    const { machine } = await started();
    expect(ok(await machine.continue(encodeNegTokenResp({ supportedMech: MECH_OID.KRB5, responseToken: FakeMechanism.token(2) }))).complete).to.equal(true);
  });

  it('accepts the acceptor naming the mechanism by its other OID (Microsoft\'s Kerberos OID)', async () => {
    const { machine } = await started();
    expect(ok(await machine.continue(encodeNegTokenResp({ negState: 'accept-completed', supportedMech: MECH_OID.MS_KRB5, responseToken: FakeMechanism.token(2) }))).complete).to.equal(true);
  });

  it('refuses a mechanism it did not offer (bad-mech, GSS_S_BAD_MECH)', async () => {
    const { machine } = await started();
    const f = failed(await machine.continue(encodeNegTokenResp({ negState: 'accept-completed', supportedMech: MECH_OID.NTLM })), 'bad-mech', GSS_S_BAD_MECH);
    expect(f.detail).to.match(/did not offer/);
  });

  it('refuses a first reply that names no mechanism', async () => {
    const { machine } = await started();
    failed(await machine.continue(encodeNegTokenResp({ negState: 'accept-completed', responseToken: FakeMechanism.token(2) })), 'unexpected', GSS_S_DEFECTIVE_TOKEN);
  });

  it('runs a three-token mechanism (DCE style): its last token goes out, and a later change of mechanism is refused', async () => {
    const { machine } = await started({ legs: 3 });
    const mid = ok(await machine.continue(encodeNegTokenResp({ negState: 'accept-incomplete', supportedMech: MECH_OID.KRB5, responseToken: FakeMechanism.token(2) })));
    expect(mid.complete).to.equal(false);
    expect(respOf(mid.token).responseToken).to.deep.equal(FakeMechanism.token(3));
    failed(await machine.continue(encodeNegTokenResp({ negState: 'accept-completed', supportedMech: MECH_OID.NTLM })), 'unexpected');
  });

  it('completes a three-token mechanism when the acceptor completes after the last token', async () => {
    const { machine } = await started({ legs: 3 });
    ok(await machine.continue(encodeNegTokenResp({ negState: 'accept-incomplete', supportedMech: MECH_OID.KRB5, responseToken: FakeMechanism.token(2) })));
    expect(ok(await machine.continue(encodeNegTokenResp({ negState: 'accept-completed' }))).complete).to.equal(true);
  });

  it('a four-token mechanism: an intermediate leg returns its token in a NegTokenResp', async () => {
    const { machine } = await started({ legs: 4 });
    const mid = ok(await machine.continue(encodeNegTokenResp({ negState: 'accept-incomplete', supportedMech: MECH_OID.KRB5, responseToken: FakeMechanism.token(2) })));
    expect(mid.complete).to.equal(false);
    expect(respOf(mid.token)).to.deep.equal({ responseToken: FakeMechanism.token(3) });
    expect(ok(await machine.continue(encodeNegTokenResp({ negState: 'accept-completed', responseToken: FakeMechanism.token(4) }))).complete).to.equal(true);
  });

  it('reject without a token: rejected', async () => {
    const { machine } = await started();
    failed(await machine.continue(encodeNegTokenResp({ negState: 'reject' })), 'rejected');
  });

  it('reject with the mechanism\'s error token: the mechanism reads it, and its failure is the answer', async () => {
    const { machine, mech } = await started();
    const f = failed(await machine.continue(encodeNegTokenResp({ negState: 'reject', responseToken: FakeMechanism.ERROR_TOKEN })), 'mechanism');
    expect(f.mechanism).to.deep.equal({ fake: 'the peer sent its error' });
    expect(mech.received).to.deep.equal([FakeMechanism.ERROR_TOKEN]);
  });

  it('reject with a token the mechanism accepts is still rejected', async () => {
    const { machine } = await started();
    failed(await machine.continue(encodeNegTokenResp({ negState: 'reject', supportedMech: MECH_OID.KRB5, responseToken: FakeMechanism.token(2) })), 'rejected');
  });

  it('accept-completed without the mechanism\'s reply fails mutual authentication', async () => {
    const { machine } = await started();
    failed(await machine.continue(encodeNegTokenResp({ negState: 'accept-completed', supportedMech: MECH_OID.KRB5 })), 'mutual-auth');
  });

  it('the mechanism\'s failure on the reply is handed back as it is', async () => {
    const { machine } = await started();
    const f = failed(await machine.continue(encodeNegTokenResp({ negState: 'accept-completed', supportedMech: MECH_OID.KRB5, responseToken: Buffer.from('forged') })), 'mechanism');
    expect(f.mechanism!.fake).to.match(/expected leg 2/);
  });

  it('verifies the acceptor\'s mechListMIC over the offered list and answers with its own', async () => {
    const { machine, mech } = await started();
    const done = ok(await machine.continue(encodeNegTokenResp({ negState: 'accept-completed', supportedMech: MECH_OID.KRB5, responseToken: FakeMechanism.token(2), mechListMIC: acceptorMic() })));
    expect(done.complete).to.equal(true);
    expect(mech.micsChecked).to.deep.equal([encodeMechTypeList([MECH_OID.KRB5])]);
    expect(respOf(done.token).mechListMIC).to.deep.equal(acceptorMic());
  });

  it('a mechListMIC that does not verify is mic-bad (GSS_S_BAD_MIC) and carries the mechanism\'s failure', async () => {
    const { machine } = await started();
    const f = failed(await machine.continue(encodeNegTokenResp({ negState: 'accept-completed', supportedMech: MECH_OID.KRB5, responseToken: FakeMechanism.token(2), mechListMIC: acceptorMic('other') })), 'mic-bad', GSS_S_BAD_MIC);
    expect(f.mechanism).to.deep.equal({ fake: 'bad MIC' });
  });

  it('a MIC over another list (a downgraded one) does not verify', async () => {
    const { machine } = await started();
    failed(await machine.continue(encodeNegTokenResp({ negState: 'accept-completed', supportedMech: MECH_OID.KRB5, responseToken: FakeMechanism.token(2), mechListMIC: acceptorMic('shared', [MECH_OID.NTLM]) })), 'mic-bad');
  });

  it('answers request-mic with its MIC, then completes on the acceptor\'s', async () => {
    const { machine } = await started();
    const mid = ok(await machine.continue(encodeNegTokenResp({ negState: 'request-mic', supportedMech: MECH_OID.KRB5, responseToken: FakeMechanism.token(2) })));
    expect(mid.complete).to.equal(false);
    expect(respOf(mid.token).mechListMIC).to.deep.equal(acceptorMic());
    const done = ok(await machine.continue(encodeNegTokenResp({ negState: 'accept-completed', mechListMIC: acceptorMic() })));
    expect(done.complete).to.equal(true);
    expect(done.token.length, 'its MIC is sent once').to.equal(0);
  });

  it('after sending its MIC, refuses completion without the acceptor\'s (mic-missing)', async () => {
    const { machine } = await started();
    ok(await machine.continue(encodeNegTokenResp({ negState: 'request-mic', supportedMech: MECH_OID.KRB5, responseToken: FakeMechanism.token(2) })));
    failed(await machine.continue(encodeNegTokenResp({ negState: 'accept-completed' })), 'mic-missing', GSS_S_BAD_MIC);
  });

  it('accept-incomplete with nothing left to send is refused', async () => {
    const { machine } = await started();
    failed(await machine.continue(encodeNegTokenResp({ negState: 'accept-incomplete', supportedMech: MECH_OID.KRB5, responseToken: FakeMechanism.token(2) })), 'unexpected');
  });

  it('refuses a mechanism token after the mechanism completed', async () => {
    const { machine } = await started({ legs: 1 });
    failed(await machine.continue(encodeNegTokenResp({ negState: 'accept-completed', supportedMech: MECH_OID.KRB5, responseToken: FakeMechanism.token(2) })), 'unexpected');
  });

  it('refuses any token after completion, and a continue before start', async () => {
    const { machine } = await started();
    ok(await machine.continue(encodeNegTokenResp({ negState: 'accept-completed', supportedMech: MECH_OID.KRB5, responseToken: FakeMechanism.token(2) })));
    failed(await machine.continue(encodeNegTokenResp({ negState: 'accept-completed' })), 'unexpected');
    failed(await new InitiatorMachine(new FakeMechanism('initiator')).continue(encodeNegTokenResp({ negState: 'accept-completed' })), 'unexpected');
  });

  it('a NegTokenInit as the reply is unexpected; malformed DER is malformed; neither reaches the mechanism', async () => {
    const { machine, mech } = await started();
    failed(await machine.continue(encodeNegTokenInit({ mechTypes: [MECH_OID.KRB5] })), 'unexpected', GSS_S_DEFECTIVE_TOKEN);
    for (const bad of [Buffer.from('a103300100', 'hex'), Buffer.from([0xa1, 0x84, 0xff, 0xff, 0xff, 0xff]), Buffer.alloc(0), Buffer.from([0x05, 0x00])]) {
      failed(await machine.continue(bad), 'malformed', GSS_S_DEFECTIVE_TOKEN);
    }
    expect(mech.received).to.have.length(0);
  });
});
