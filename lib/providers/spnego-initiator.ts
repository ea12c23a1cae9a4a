// The initiator side of RFC 4178 (SPNEGO), framed by us around one GSS mechanism context, so that minor codes stay
// the mechanism's own (docs/spnego.md). Only the krb5 mechanism is offered today.
import { OIDS } from '../../ffi/gssapi.js';
import { MECH_OID, decodeNegToken, encodeMechTypeList, encodeNegTokenInit, encodeNegTokenResp, type NegTokenResp } from '../spnego/index.js';
import * as S from '../sspi/status.js';
import { isFailure, syntheticFailure, type GssContext, type GssFailure } from './gssapi-native.js';

const GSS_S_DEFECTIVE_TOKEN = 0x90000;
const GSS_S_BAD_MECH = 0x10000;
const GSS_S_FAILURE = 0xd0000;
const GSS_S_BAD_MIC = 0x60000;

/** What one SPNEGO leg produced. */
export interface SpnegoStep {
  complete: boolean;
  token: Buffer;
  flags: number;
  expiry?: Date;
}

/** Acceptors answer with either OID for Kerberos (Microsoft's dates from a Windows 2000 bug); both mean krb5. */
function sameMech(offered: string, selected: string): boolean {
  const krb5 = (oid: string) => (oid === MECH_OID.MS_KRB5 ? MECH_OID.KRB5 : oid);
  return krb5(offered) === krb5(selected);
}

export class SpnegoInitiator {
  private readonly mechTypes: string[];
  private mechComplete = false;
  private selected?: string;
  private micSent = false;
  private micVerified = false;
  private lastFlags = 0;
  private lastExpiry?: Date;
  private done = false;

  constructor(private readonly mech: GssContext) {
    this.mechTypes = [mech.mech === OIDS.MECH_KRB5 ? MECH_OID.KRB5 : mech.mech];
  }

  /** The DER of our mechTypes: what both mechListMICs cover. */
  private get mechTypesDer(): Buffer {
    return encodeMechTypeList(this.mechTypes);
  }

  /** First leg: the optimistic mechanism token inside a NegTokenInit. */
  async start(): Promise<SpnegoStep | GssFailure> {
    const step = await this.mech.step();
    if (isFailure(step)) return step;
    this.mechComplete = step.complete;
    this.lastFlags = step.flags;
    this.lastExpiry = step.expiry;
    return { complete: false, token: encodeNegTokenInit({ mechTypes: this.mechTypes, mechToken: step.token }), flags: step.flags, expiry: step.expiry };
  }

  /** A later leg: the acceptor's NegTokenResp. */
  async continue(input: Buffer): Promise<SpnegoStep | GssFailure> {
    if (this.done) return syntheticFailure(S.SEC_E_INVALID_TOKEN, GSS_S_DEFECTIVE_TOKEN, 'SPNEGO: a token arrived after the exchange was complete');
    let resp: NegTokenResp;
    try {
      const decoded = decodeNegToken(input);
      if (decoded.kind !== 'resp') {
        return syntheticFailure(S.SEC_E_INVALID_TOKEN, GSS_S_DEFECTIVE_TOKEN, 'SPNEGO: expected a NegTokenResp from the acceptor, got a NegTokenInit');
      }
      resp = decoded.token;
    } catch (err) {
      return syntheticFailure(S.SEC_E_INVALID_TOKEN, GSS_S_DEFECTIVE_TOKEN, `SPNEGO: ${(err as Error).message}`);
    }

    if (resp.supportedMech !== undefined) {
      if (this.selected !== undefined && !sameMech(this.selected, resp.supportedMech)) {
        return syntheticFailure(S.SEC_E_INVALID_TOKEN, GSS_S_DEFECTIVE_TOKEN, 'SPNEGO: the acceptor changed its selected mechanism');
      }
      if (!this.mechTypes.some((m) => sameMech(m, resp.supportedMech as string))) {
        return syntheticFailure(S.SEC_E_INVALID_TOKEN, GSS_S_BAD_MECH, `SPNEGO: the acceptor selected ${resp.supportedMech}, which we did not offer`);
      }
      this.selected = resp.supportedMech;
    } else if (this.selected === undefined) {
      if (resp.negState !== 'reject') {
        return syntheticFailure(S.SEC_E_INVALID_TOKEN, GSS_S_DEFECTIVE_TOKEN, 'SPNEGO: the first reply names no supportedMech');
      }
    }

    if (resp.negState === 'reject') {
      // A rejecting acceptor often carries the mechanism's error (a KRB-ERROR): let the mechanism read it, so the
      // caller sees the exact Kerberos error instead of a bare "rejected".
      if (resp.responseToken && resp.responseToken.length > 0 && !this.mechComplete) {
        const step = await this.mech.step(resp.responseToken);
        if (isFailure(step)) return step;
      }
      return syntheticFailure(S.SEC_E_LOGON_DENIED, GSS_S_FAILURE, 'SPNEGO: the acceptor rejected the authentication');
    }

    // DCE style: the mechanism completes with a last token of its own (the third leg), which goes out here.
    let mechToken: Buffer | undefined;
    if (resp.responseToken && resp.responseToken.length > 0) {
      if (this.mechComplete) {
        return syntheticFailure(S.SEC_E_INVALID_TOKEN, GSS_S_DEFECTIVE_TOKEN, 'SPNEGO: a mechanism token arrived after the mechanism completed');
      }
      const step = await this.mech.step(resp.responseToken);
      if (isFailure(step)) return step;
      this.mechComplete = step.complete;
      this.lastFlags = step.flags;
      this.lastExpiry = step.expiry;
      if (!step.complete) {
        return { complete: false, token: encodeNegTokenResp({ responseToken: step.token }), flags: step.flags, expiry: step.expiry };
      }
      if (step.token.length > 0) mechToken = step.token;
    }

    if (!this.mechComplete) {
      // With mutual authentication the acceptor owes us its AP-REP; accept-completed without it is a failure.
      return syntheticFailure(S.SEC_E_MUTUAL_AUTH_FAILED, GSS_S_FAILURE, 'SPNEGO: the acceptor completed without the mechanism reply that mutual authentication needs');
    }

    if (resp.mechListMIC) {
      const bad = this.mech.verifyMic(this.mechTypesDer, resp.mechListMIC);
      if (bad) return { ...bad, status: S.SEC_E_MESSAGE_ALTERED, detail: 'SPNEGO: the acceptor\'s mechListMIC does not verify (possible downgrade)' };
      this.micVerified = true;
    }

    // RFC 4178 §5: when the acceptor sent a MIC or asks for one, we send ours (once).
    const wantMic = resp.negState === 'request-mic' || this.micVerified;
    let mic: Buffer | undefined;
    if (wantMic && !this.micSent) {
      const made = this.mech.getMic(this.mechTypesDer);
      if (isFailure(made)) return made;
      this.micSent = true;
      mic = made;
    }
    const token = mechToken || mic ? encodeNegTokenResp({ responseToken: mechToken, mechListMIC: mic }) : Buffer.alloc(0);

    if (resp.negState === 'accept-completed' || resp.negState === undefined) {
      // Once MICs are exchanged, the acceptor must have sent its own before completing (RFC 4178 §5).
      if (this.micSent && !this.micVerified) {
        return syntheticFailure(S.SEC_E_MESSAGE_ALTERED, GSS_S_BAD_MIC, 'SPNEGO: the acceptor completed without the mechListMIC it asked for');
      }
      this.done = true;
      return { complete: true, token, flags: this.lastFlags, expiry: this.lastExpiry };
    }
    if (token.length === 0) {
      return syntheticFailure(S.SEC_E_INVALID_TOKEN, GSS_S_DEFECTIVE_TOKEN, `SPNEGO: the acceptor answered ${resp.negState} but there is nothing left to send`);
    }
    return { complete: false, token, flags: this.lastFlags, expiry: this.lastExpiry };
  }

  release(): void {
    this.mech.release();
  }
}
