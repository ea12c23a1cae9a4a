// The initiator half of SPNEGO (RFC 4178) over one mechanism: it offers the mechanism with its optimistic token,
// reads the acceptor's NegTokenResps, and enforces the mechListMIC rules of §5. No I/O and no native calls: the
// mechanism does the cryptography (lib/protocol/mechanism.ts).
import { GSS_S_BAD_MECH, GSS_S_BAD_MIC, GSS_S_DEFECTIVE_TOKEN, GSS_S_FAILURE, SpnegoFailure } from './failure.js';
import { mechanismFailed, type MechanismStep, type SpnegoMechanism } from './mechanism.js';
import { SpnegoError, decodeNegToken, encodeMechTypeList, encodeNegTokenInit, encodeNegTokenResp, type NegTokenResp } from './tokens.js';

/** What one initiator leg produced: the token for the acceptor and the mechanism's latest step (its flags, ...). */
export interface InitiatorOutput<S extends MechanismStep> {
  complete: boolean;
  token: Buffer;
  mechStep: S;
}

export class InitiatorMachine<S extends MechanismStep, F> {
  /** What we offer: the mechanism's own OID. Both mechListMICs cover exactly this list's DER (RFC 4178 §5 a). */
  private readonly mechTypes: string[];
  private mechComplete = false;
  private selected?: string;
  private micSent = false;
  private micVerified = false;
  private last?: S;
  private done = false;

  constructor(private readonly mech: SpnegoMechanism<S, F>) {
    this.mechTypes = [mech.oids[0]];
  }

  /** The DER of `mechTypes`, made once (both mechListMICs are over it). */
  private mechTypesDerMemo?: Buffer;

  private get mechTypesDer(): Buffer {
    return (this.mechTypesDerMemo ??= encodeMechTypeList(this.mechTypes));
  }

  /** The first leg: the optimistic mechanism token inside a NegTokenInit (RFC 4178 §4.2.1, §5). */
  async start(): Promise<InitiatorOutput<S> | SpnegoFailure<F>> {
    const step = await this.mech.step();
    if (mechanismFailed<F>(step)) return mechanismFailure(step.failure);
    this.mechComplete = step.complete;
    this.last = step;
    // Never complete here: the acceptor's answer is needed (its AP-REP, or at least accept-completed).
    return { complete: false, token: encodeNegTokenInit({ mechTypes: this.mechTypes, mechToken: step.token }), mechStep: step };
  }

  /** A later leg: the acceptor's NegTokenResp (RFC 4178 §4.2.2). */
  async continue(input: Buffer): Promise<InitiatorOutput<S> | SpnegoFailure<F>> {
    if (this.done || !this.last) return new SpnegoFailure('unexpected', GSS_S_DEFECTIVE_TOKEN, 'a token arrived after the exchange was complete');
    const resp = readResp(input);
    if (resp instanceof SpnegoFailure) return resp;

    const named = this.checkSupportedMech(resp);
    if (named) return named;

    if (resp.negState === 'reject') {
      // A rejecting acceptor often carries the mechanism's error (a KRB-ERROR): let the mechanism read it, so the
      // caller sees the exact Kerberos error instead of a bare "rejected".
      if (resp.responseToken && resp.responseToken.length > 0 && !this.mechComplete) {
        const step = await this.mech.step(resp.responseToken);
        if (mechanismFailed<F>(step)) return mechanismFailure(step.failure);
      }
      return new SpnegoFailure('rejected', GSS_S_FAILURE, 'the acceptor rejected the authentication');
    }

    // DCE style: the mechanism completes with a last token of its own (the third leg), which goes out here.
    let mechToken: Buffer | undefined;
    if (resp.responseToken && resp.responseToken.length > 0) {
      if (this.mechComplete) return new SpnegoFailure('unexpected', GSS_S_DEFECTIVE_TOKEN, 'a mechanism token arrived after the mechanism completed');
      const step = await this.mech.step(resp.responseToken);
      if (mechanismFailed<F>(step)) return mechanismFailure(step.failure);
      this.mechComplete = step.complete;
      this.last = step;
      if (!step.complete) return { complete: false, token: encodeNegTokenResp({ responseToken: step.token }), mechStep: step };
      if (step.token.length > 0) mechToken = step.token;
    }

    // With mutual authentication the acceptor owes us its AP-REP; accept-completed without it is a failure.
    if (!this.mechComplete) return new SpnegoFailure('mutual-auth', GSS_S_FAILURE, 'the acceptor completed without the mechanism reply that mutual authentication needs');

    if (resp.mechListMIC) {
      const bad = await this.mech.verifyMic(this.mechTypesDer, resp.mechListMIC);
      if (bad) return new SpnegoFailure('mic-bad', GSS_S_BAD_MIC, 'the acceptor\'s mechListMIC does not verify (possible downgrade)', bad.failure);
      this.micVerified = true;
    }

    // RFC 4178 §5: when the acceptor sent a MIC or asks for one, we send ours (once).
    let mic: Buffer | undefined;
    if ((resp.negState === 'request-mic' || this.micVerified) && !this.micSent) {
      const made = await this.mech.getMic(this.mechTypesDer);
      if (mechanismFailed<F>(made)) return mechanismFailure(made.failure);
      this.micSent = true;
      mic = made;
    }
    const token = mechToken || mic ? encodeNegTokenResp({ responseToken: mechToken, mechListMIC: mic }) : Buffer.alloc(0);

    if (resp.negState === 'accept-completed' || resp.negState === undefined) {
      // Once MICs are exchanged, the acceptor must have sent its own before completing (RFC 4178 §5).
      if (this.micSent && !this.micVerified) return new SpnegoFailure('mic-missing', GSS_S_BAD_MIC, 'the acceptor completed without the mechListMIC it asked for');
      this.done = true;
      return { complete: true, token, mechStep: this.last };
    }
    if (token.length === 0) return new SpnegoFailure('unexpected', GSS_S_DEFECTIVE_TOKEN, `the acceptor answered ${resp.negState} but there is nothing left to send`);
    return { complete: false, token, mechStep: this.last };
  }

  /** The first reply names the selected mechanism (RFC 4178 §4.2.2), one we offered; later ones may not change it. */
  private checkSupportedMech(resp: NegTokenResp): SpnegoFailure<F> | undefined {
    if (resp.supportedMech === undefined) {
      if (this.selected === undefined && resp.negState !== 'reject') {
        return new SpnegoFailure('unexpected', GSS_S_DEFECTIVE_TOKEN, 'the first reply names no supportedMech');
      }
      return undefined;
    }
    // Any OID of our mechanism counts: Kerberos acceptors may answer with Microsoft's OID (lib/protocol/oids.ts).
    const ours = this.mech.oids.includes(resp.supportedMech);
    if (this.selected !== undefined && !ours) return new SpnegoFailure('unexpected', GSS_S_DEFECTIVE_TOKEN, 'the acceptor changed its selected mechanism');
    if (!ours) return new SpnegoFailure('bad-mech', GSS_S_BAD_MECH, `the acceptor selected ${resp.supportedMech}, which we did not offer`);
    this.selected = resp.supportedMech;
    return undefined;
  }
}

/** The acceptor's reply as a NegTokenResp, or the protocol failure that it is not one. */
function readResp(input: Buffer): NegTokenResp | SpnegoFailure<never> {
  try {
    const decoded = decodeNegToken(input);
    if (decoded.kind === 'resp') return decoded.token;
    return new SpnegoFailure('unexpected', GSS_S_DEFECTIVE_TOKEN, 'expected a NegTokenResp from the acceptor, got a NegTokenInit');
  } catch (err) {
    if (err instanceof SpnegoError) return new SpnegoFailure('malformed', GSS_S_DEFECTIVE_TOKEN, err.reason);
    throw err;
  }
}

function mechanismFailure<F>(failure: F): SpnegoFailure<F> {
  return new SpnegoFailure('mechanism', GSS_S_FAILURE, 'the mechanism failed', failure);
}
