// The SPNEGO state machines (lib/protocol/initiator.ts, lib/protocol/acceptor.ts) over a fake mechanism: every
// transition of each half, the two halves talking to each other, and hostile input. What real acceptors make of the
// initiator is judged by test/integration/spnego.test.ts.
import { expect } from 'chai';
import { SpnegoFailure, GSS_S_BAD_MECH, GSS_S_BAD_MIC, GSS_S_DEFECTIVE_TOKEN } from '../../lib/protocol/failure.js';
import { ACCEPTOR_LIMITS, AcceptorMachine } from '../../lib/protocol/acceptor.js';
import { InitiatorMachine } from '../../lib/protocol/initiator.js';
import { MECH_OID } from '../../lib/protocol/oids.js';
import {
  decodeNegToken, encodeMechTypeList, encodeNegTokenInit, encodeNegTokenResp, unwrapInitialContextToken, wrapInitialContextToken,
  type NegTokenInit, type NegTokenResp,
} from '../../lib/protocol/tokens.js';
import { FakeMechanism, type FakeFailure, type FakeStep } from '../harness/fake-mechanism.js';

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

  it('never throws on random mutations of an acceptor\'s replies (seeded)', async () => {
    let seed = 29;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n;
    const replies = [
      encodeNegTokenResp({ negState: 'request-mic', supportedMech: MECH_OID.KRB5, responseToken: FakeMechanism.token(2), mechListMIC: acceptorMic() }),
      encodeNegTokenResp({ negState: 'accept-completed', mechListMIC: acceptorMic() }),
    ];
    let completed = 0;
    for (let i = 0; i < 2000; i++) {
      const { machine } = await started();
      for (const reply of replies) {
        const t = Buffer.from(reply);
        for (let k = rand(3); k >= 0 && i > 0; k--) t[rand(t.length)] = rand(256);
        const r = await machine.continue(rand(5) === 0 && i > 0 ? t.subarray(0, rand(t.length)) : t);
        if (r instanceof SpnegoFailure) break;
        expect(r.token).to.be.instanceOf(Buffer);
        if (r.complete) completed++;
      }
    }
    // The unmutated first round completes: the loop drives a working exchange, not only failures.
    expect(completed).to.be.greaterThan(0);
  });
});

describe('SPNEGO state machine: the acceptor half', () => {
  const KRB = [MECH_OID.KRB5];
  const WINDOWS = [MECH_OID.MS_KRB5, MECH_OID.KRB5, MECH_OID.NTLM];

  /** The initiator side's MIC over a mechanism list as the initiator encoded it. */
  function initiatorMic(list: readonly string[], key = 'shared'): Buffer {
    const peer = new FakeMechanism('initiator', { key });
    peer.complete = true;
    return peer.getMic(encodeMechTypeList(list)) as Buffer;
  }

  function acceptor(options: ConstructorParameters<typeof FakeMechanism>[1] = {}, limits?: ConstructorParameters<typeof AcceptorMachine>[1]) {
    const mech = new FakeMechanism('acceptor', options);
    return { mech, machine: new AcceptorMachine<FakeStep, FakeFailure>([mech], limits) };
  }

  const init = (mechTypes: string[], mechToken?: Buffer) => encodeNegTokenInit({ mechTypes, mechToken });

  it('accepts an optimistic token for krb5 in one leg: accept-completed, supportedMech, the reply token', async () => {
    const { machine, mech } = acceptor();
    const out = ok(await machine.step(init(KRB, FakeMechanism.token(1))));
    expect(out.complete).to.equal(true);
    expect(respOf(out.token)).to.deep.equal({ negState: 'accept-completed', supportedMech: MECH_OID.KRB5, responseToken: FakeMechanism.token(2) });
    expect(out.mechStep!.leg).to.equal(2);
    expect(mech.received).to.deep.equal([FakeMechanism.token(1)]);
    expect(machine.selected).to.include({ oid: MECH_OID.KRB5, framing: 'spnego', mechanism: mech });
  });

  it('answers a Windows list with Microsoft\'s OID, the one the client preferred', async () => {
    const { machine } = acceptor();
    const out = ok(await machine.step(init(WINDOWS, FakeMechanism.token(1))));
    expect(respOf(out.token).supportedMech).to.equal(MECH_OID.MS_KRB5);
    expect(respOf(out.token).negState).to.equal('accept-completed');
  });

  it('a one-token mechanism completes with no responseToken', async () => {
    const { machine } = acceptor({ legs: 1 });
    const out = ok(await machine.step(init(KRB, FakeMechanism.token(1))));
    expect(respOf(out.token)).to.deep.equal({ negState: 'accept-completed', supportedMech: MECH_OID.KRB5 });
  });

  it('a multi-leg mechanism: accept-incomplete with each token, supportedMech only in the first reply', async () => {
    const { machine } = acceptor({ legs: 4 });
    const a = ok(await machine.step(init(KRB, FakeMechanism.token(1))));
    expect(a.complete).to.equal(false);
    expect(respOf(a.token)).to.deep.equal({ negState: 'accept-incomplete', supportedMech: MECH_OID.KRB5, responseToken: FakeMechanism.token(2) });
    const b = ok(await machine.step(encodeNegTokenResp({ responseToken: FakeMechanism.token(3) })));
    expect(b.complete).to.equal(true);
    expect(respOf(b.token)).to.deep.equal({ negState: 'accept-completed', responseToken: FakeMechanism.token(4) });
  });

  it('without an optimistic token: accept-incomplete naming the mechanism, then the mechanism runs', async () => {
    const { machine } = acceptor();
    const a = ok(await machine.step(init(KRB)));
    expect(respOf(a.token)).to.deep.equal({ negState: 'accept-incomplete', supportedMech: MECH_OID.KRB5 });
    expect(a.mechStep).to.equal(undefined);
    const b = ok(await machine.step(encodeNegTokenResp({ responseToken: FakeMechanism.token(1) })));
    expect(respOf(b.token)).to.deep.equal({ negState: 'accept-completed', responseToken: FakeMechanism.token(2) });
  });

  describe('another mechanism first: the optimistic token is refused and the MIC exchange is required', () => {
    const LIST = [MECH_OID.NTLM, MECH_OID.KRB5];

    async function negotiated() {
      const { machine, mech } = acceptor();
      const a = ok(await machine.step(init(LIST, Buffer.from('NTLMSSP\0optimistic'))));
      expect(respOf(a.token), 'request-mic, no token').to.deep.equal({ negState: 'request-mic', supportedMech: MECH_OID.KRB5 });
      expect(mech.received, 'the optimistic token never reaches krb5').to.have.length(0);
      const b = ok(await machine.step(encodeNegTokenResp({ responseToken: FakeMechanism.token(1) })));
      expect(b.complete).to.equal(false);
      const resp = respOf(b.token);
      expect(resp.negState).to.equal('accept-incomplete');
      expect(resp.responseToken).to.deep.equal(FakeMechanism.token(2));
      expect(resp.mechListMIC, 'ours, over the list as received').to.deep.equal(initiatorMic(LIST));
      return machine;
    }

    it('completes on the initiator\'s MIC over the list it sent', async () => {
      const machine = await negotiated();
      const done = ok(await machine.step(encodeNegTokenResp({ mechListMIC: initiatorMic(LIST) })));
      expect(done.complete).to.equal(true);
      expect(respOf(done.token)).to.deep.equal({ negState: 'accept-completed' });
    });

    it('refuses completion without the initiator\'s MIC (mic-missing), with a reject', async () => {
      const machine = await negotiated();
      const f = failed(await machine.step(encodeNegTokenResp({ negState: 'accept-completed' })), 'mic-missing', GSS_S_BAD_MIC);
      expect(respOf(f.token!)).to.deep.equal({ negState: 'reject' });
    });

    it('refuses a MIC over a list without the first mechanism (a downgrade): mic-bad', async () => {
      const machine = await negotiated();
      failed(await machine.step(encodeNegTokenResp({ mechListMIC: initiatorMic([MECH_OID.KRB5]) })), 'mic-bad', GSS_S_BAD_MIC);
    });

    it('refuses a MIC under another key: mic-bad, carrying the mechanism\'s failure', async () => {
      const machine = await negotiated();
      const f = failed(await machine.step(encodeNegTokenResp({ mechListMIC: initiatorMic(LIST, 'other') })), 'mic-bad');
      expect(f.mechanism).to.deep.equal({ fake: 'bad MIC' });
    });

    it('refuses a mechanism token where the MIC was due', async () => {
      const machine = await negotiated();
      failed(await machine.step(encodeNegTokenResp({ responseToken: FakeMechanism.token(3), mechListMIC: initiatorMic(LIST) })), 'unexpected');
    });

    it('the initiator sending its MIC with its last token (RFC 4178 §5 c) gets ours and accept-completed', async () => {
      const { machine } = acceptor({ legs: 1 });
      ok(await machine.step(init(LIST)));
      const done = ok(await machine.step(encodeNegTokenResp({ responseToken: FakeMechanism.token(1), mechListMIC: initiatorMic(LIST) })));
      expect(done.complete).to.equal(true);
      expect(respOf(done.token)).to.deep.equal({ negState: 'accept-completed', mechListMIC: initiatorMic(LIST) });
    });

    it('the initiator\'s last token without the required MIC: ours goes out and the initiator\'s is still required', async () => {
      const { machine } = acceptor({ legs: 1 });
      ok(await machine.step(init(LIST)));
      const mid = ok(await machine.step(encodeNegTokenResp({ responseToken: FakeMechanism.token(1) })));
      expect(mid.complete).to.equal(false);
      expect(respOf(mid.token)).to.deep.equal({ negState: 'accept-incomplete', mechListMIC: initiatorMic(LIST) });
      failed(await machine.step(encodeNegTokenResp({})), 'mic-missing');
    });
  });

  it('a mechanism that requires the MIC gets it even as the first choice: request-mic with our MIC, then theirs', async () => {
    const { machine } = acceptor({ requiresMic: true });
    const a = ok(await machine.step(init(KRB, FakeMechanism.token(1))));
    expect(a.complete).to.equal(false);
    expect(respOf(a.token)).to.deep.equal({ negState: 'request-mic', supportedMech: MECH_OID.KRB5, responseToken: FakeMechanism.token(2), mechListMIC: initiatorMic(KRB) });
    expect(ok(await machine.step(encodeNegTokenResp({ mechListMIC: initiatorMic(KRB) }))).complete).to.equal(true);
  });

  it('verifies an initiator\'s MIC sent when none was required, and a bad one fails', async () => {
    const good = acceptor({ legs: 3 });
    ok(await good.machine.step(init(KRB, FakeMechanism.token(1))));
    const done = ok(await good.machine.step(encodeNegTokenResp({ responseToken: FakeMechanism.token(3), mechListMIC: initiatorMic(KRB) })));
    expect(respOf(done.token)).to.deep.equal({ negState: 'accept-completed', mechListMIC: initiatorMic(KRB) });
    const bad = acceptor({ legs: 3 });
    ok(await bad.machine.step(init(KRB, FakeMechanism.token(1))));
    failed(await bad.machine.step(encodeNegTokenResp({ responseToken: FakeMechanism.token(3), mechListMIC: initiatorMic(KRB, 'other') })), 'mic-bad');
  });

  it('a MIC before the mechanism completed is refused', async () => {
    const { machine } = acceptor({ legs: 5 });
    ok(await machine.step(init(KRB, FakeMechanism.token(1))));
    failed(await machine.step(encodeNegTokenResp({ responseToken: FakeMechanism.token(3), mechListMIC: initiatorMic(KRB) })), 'unexpected');
  });

  it('no mechanism in common: bad-mech (GSS_S_BAD_MECH) and a reject without supportedMech', async () => {
    const { machine, mech } = acceptor();
    const f = failed(await machine.step(init([MECH_OID.NTLM, MECH_OID.NEGOEX], Buffer.from('x'))), 'bad-mech', GSS_S_BAD_MECH);
    expect(respOf(f.token!)).to.deep.equal({ negState: 'reject' });
    expect(mech.received).to.have.length(0);
  });

  it('the peer\'s OIDs reach the failure detail cut short: at most eight, each at most 64 characters', async () => {
    const { machine } = acceptor();
    const long = `1.3.6.1.4.1.${'1234567.'.repeat(50)}1`; // 57 arcs: the decoder's limit is 64
    const offered = [long, ...Array.from({ length: 11 }, (_, i) => `1.3.6.1.4.1.99999.${i}`)];
    const f = failed(await machine.step(init(offered, Buffer.from('x'))), 'bad-mech', GSS_S_BAD_MECH);
    expect(f.detail).to.not.contain(long);
    expect(f.detail).to.contain(`${long.slice(0, 64)}... (${long.length} characters)`);
    expect(f.detail).to.contain('1.3.6.1.4.1.99999.6 and 4 more');
    expect(f.detail).to.not.contain('1.3.6.1.4.1.99999.7');
    expect(f.detail!.length).to.be.below(1000);
  });

  it('the mechanism refusing the optimistic token: a reject carrying its error token, and its failure as it is', async () => {
    const { machine } = acceptor();
    const f = failed(await machine.step(init(KRB, Buffer.from('forged'))), 'mechanism');
    expect(f.mechanism!.fake).to.match(/expected leg 1/);
    expect(respOf(f.token!)).to.deep.equal({ negState: 'reject', responseToken: FakeMechanism.ERROR_TOKEN });
  });

  it('the mechanism failing on a later leg: the same reject', async () => {
    const { machine } = acceptor({ legs: 4, failStep: 2 });
    ok(await machine.step(init(KRB, FakeMechanism.token(1))));
    const f = failed(await machine.step(encodeNegTokenResp({ responseToken: FakeMechanism.token(3) })), 'mechanism');
    expect(respOf(f.token!).responseToken).to.deep.equal(FakeMechanism.ERROR_TOKEN);
  });

  it('an initiator\'s reject ends the exchange with nothing to answer', async () => {
    const { machine } = acceptor({ legs: 4 });
    ok(await machine.step(init(KRB, FakeMechanism.token(1))));
    const f = failed(await machine.step(encodeNegTokenResp({ negState: 'reject' })), 'rejected');
    expect(f.token).to.equal(undefined);
  });

  it('refuses a later leg without a mechanism token, a NegTokenInit, or another supportedMech', async () => {
    for (const bad of [encodeNegTokenResp({}), init(KRB, FakeMechanism.token(3)), encodeNegTokenResp({ supportedMech: MECH_OID.NTLM, responseToken: FakeMechanism.token(3) })]) {
      const { machine } = acceptor({ legs: 4 });
      ok(await machine.step(init(KRB, FakeMechanism.token(1))));
      const f = failed(await machine.step(bad), 'unexpected', GSS_S_DEFECTIVE_TOKEN);
      expect(respOf(f.token!).negState).to.equal('reject');
    }
  });

  it('refuses every token once complete or failed, without reaching the mechanism', async () => {
    const { machine, mech } = acceptor();
    ok(await machine.step(init(KRB, FakeMechanism.token(1))));
    failed(await machine.step(encodeNegTokenResp({ responseToken: FakeMechanism.token(3) })), 'unexpected');
    const broken = acceptor();
    failed(await broken.machine.step(Buffer.from([0x30, 0x00])), 'malformed');
    failed(await broken.machine.step(init(KRB, FakeMechanism.token(1))), 'unexpected');
    expect(mech.received).to.have.length(1);
    expect(broken.mech.received).to.have.length(0);
  });

  it('refuses a token while the previous one is still being processed', async () => {
    const { machine } = acceptor();
    const first = machine.step(init(KRB, FakeMechanism.token(1)));
    failed(await machine.step(encodeNegTokenResp({ responseToken: FakeMechanism.token(1) })), 'unexpected');
    ok(await first);
  });

  describe('a raw mechanism token, without SPNEGO', () => {
    /** An RFC 2743 framed token of the fake mechanism's first leg under `oid`. */
    const raw = (oid: string, leg = 1) => wrapInitialContextToken(oid, FakeMechanism.token(leg));

    it('goes straight to the mechanism and is answered raw, under either Kerberos OID', async () => {
      for (const oid of [MECH_OID.KRB5, MECH_OID.MS_KRB5]) {
        const mech = new FakeMechanism('acceptor', { legs: 2 });
        // The fake reads its own leg tokens: unwrap what the machine passes on to compare.
        const received: Buffer[] = [];
        const machine = new AcceptorMachine<FakeStep, FakeFailure>([{
          oids: mech.oids,
          step: async (input) => {
            received.push(input!);
            return mech.step(unwrapInitialContextToken(input!).inner);
          },
          getMic: (m) => mech.getMic(m),
          verifyMic: (m, mic) => mech.verifyMic(m, mic),
        }]);
        const out = ok(await machine.step(raw(oid)));
        expect(out.complete).to.equal(true);
        expect(out.token, 'the mechanism\'s token, not a NegTokenResp').to.deep.equal(FakeMechanism.token(2));
        expect(received).to.deep.equal([raw(oid)]);
        expect(machine.selected).to.include({ oid, framing: 'raw' });
      }
    });

    it('a multi-leg raw exchange stays raw; a failure answers the raw error token', async () => {
      const machine = new AcceptorMachine<FakeStep, FakeFailure>([rawFake({ legs: 4 })]);
      const a = ok(await machine.step(raw(MECH_OID.KRB5)));
      expect(a.complete).to.equal(false);
      expect(a.token).to.deep.equal(FakeMechanism.token(2));
      const f = failed(await machine.step(Buffer.from('fake-leg-9')), 'mechanism');
      expect(f.token).to.deep.equal(FakeMechanism.ERROR_TOKEN);
    });

    it('a raw token of a mechanism not run here: bad-mech, nothing to send', async () => {
      const { machine } = acceptor();
      const f = failed(await machine.step(raw('1.2.3.4')), 'bad-mech', GSS_S_BAD_MECH);
      expect(f.token).to.equal(undefined);
    });

    /** The fake behind an unwrapping adapter: the first raw token is RFC 2743 framed, later ones are bare. */
    function rawFake(options: ConstructorParameters<typeof FakeMechanism>[1]) {
      const mech = new FakeMechanism('acceptor', options);
      let first = true;
      return {
        oids: mech.oids,
        step: async (input?: Buffer) => {
          const inner = first ? unwrapInitialContextToken(input!).inner : input;
          first = false;
          return mech.step(inner);
        },
        getMic: (m: Buffer) => mech.getMic(m),
        verifyMic: (m: Buffer, mic: Buffer) => mech.verifyMic(m, mic),
      };
    }
  });

  describe('hostile input: a protocol failure, never a throw', () => {
    it('refuses a token over the size limit before decoding it', async () => {
      const { machine, mech } = acceptor({}, { maxTokenBytes: 100, maxMechTypes: 16 });
      const f = failed(await machine.step(init(KRB, Buffer.alloc(200, 1))), 'malformed', GSS_S_DEFECTIVE_TOKEN);
      expect(f.detail).to.match(/over the limit of 100/);
      expect(mech.received).to.have.length(0);
      expect(ACCEPTOR_LIMITS).to.deep.equal({ maxTokenBytes: 65536, maxMechTypes: 16 });
    });

    it('refuses a mechanism list over the limit, with a reject', async () => {
      const { machine } = acceptor();
      const long = Array.from({ length: 17 }, (_, i) => `1.3.6.1.4.1.${i + 1}`);
      const f = failed(await machine.step(init([...long, MECH_OID.KRB5], FakeMechanism.token(1))), 'malformed');
      expect(respOf(f.token!)).to.deep.equal({ negState: 'reject' });
    });

    it('an empty token, a wrong tag, a NegTokenResp first, a bare NegTokenInit and truncations are malformed', async () => {
      const valid = init(WINDOWS, FakeMechanism.token(1));
      const bare = valid.subarray(valid.indexOf(Buffer.from([0xa0])));
      const inputs = [Buffer.alloc(0), Buffer.from([0x04, 0x00]), encodeNegTokenResp({ negState: 'accept-completed' }), bare,
        ...Array.from({ length: valid.length - 1 }, (_, n) => valid.subarray(0, n + 1))];
      for (const input of inputs) {
        const { machine, mech } = acceptor();
        const r = await machine.step(Buffer.from(input));
        failed(r, 'malformed');
        expect(mech.received, input.toString('hex')).to.have.length(0);
      }
    });

    it('never throws on random mutations of a valid exchange (seeded)', async () => {
      let seed = 17;
      const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n;
      const valid = [init(WINDOWS, FakeMechanism.token(1)), encodeNegTokenResp({ responseToken: FakeMechanism.token(3), mechListMIC: initiatorMic(WINDOWS) })];
      for (let i = 0; i < 2000; i++) {
        const { machine } = acceptor({ legs: 4 });
        for (const token of valid) {
          const t = Buffer.from(token);
          for (let k = rand(4); k >= 0; k--) t[rand(t.length)] = rand(256);
          const r = await machine.step(rand(5) === 0 ? t.subarray(0, rand(t.length)) : t);
          if (r instanceof SpnegoFailure) break;
          expect(r.token).to.be.instanceOf(Buffer);
        }
      }
    });
  });
});

describe('SPNEGO state machine: the two halves together', () => {
  async function exchange(initOptions: ConstructorParameters<typeof FakeMechanism>[1], accOptions: ConstructorParameters<typeof FakeMechanism>[1]) {
    const initiator = new InitiatorMachine(new FakeMechanism('initiator', initOptions));
    const acceptor = new AcceptorMachine<FakeStep, FakeFailure>([new FakeMechanism('acceptor', accOptions)]);
    const tokens: Buffer[] = [];
    type Leg = { complete: boolean; token: Buffer } | SpnegoFailure<FakeFailure>;
    let out: Leg = await initiator.start();
    let fromInitiator = true;
    // Tokens go back and forth until one side has nothing left to send (or fails).
    for (let i = 0; i < 10 && !(out instanceof SpnegoFailure) && out.token.length > 0; i++) {
      tokens.push(out.token);
      const next: Leg = fromInitiator ? await acceptor.step(out.token) : await initiator.continue(out.token);
      if (fromInitiator && !(next instanceof SpnegoFailure)) expect(next.token.length, 'an acceptor under SPNEGO always answers').to.be.greaterThan(0);
      out = next;
      fromInitiator = !fromInitiator;
    }
    return { out, tokens, initiator, acceptor };
  }

  for (const legs of [1, 2, 3, 4]) {
    for (const requiresMic of [false, true]) {
      it(`${legs} mechanism token(s)${requiresMic ? ', MIC required by the mechanism' : ''}: both complete`, async () => {
        const { out, tokens } = await exchange({ legs, requiresMic }, { legs, requiresMic });
        const done = ok(out);
        expect(done.complete).to.equal(true);
        const mics = tokens.map((t) => (decodeNegToken(t).token as { mechListMIC?: Buffer }).mechListMIC).filter(Boolean);
        expect(mics.length, 'MICs on the wire').to.equal(requiresMic ? 2 : 0);
      });
    }
  }

  it('different keys: the MIC exchange fails on the initiator\'s side', async () => {
    const { out } = await exchange({ key: 'a' }, { key: 'b', requiresMic: true });
    failed(out, 'mic-bad');
  });
});
