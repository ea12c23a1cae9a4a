// The acceptor half of SPNEGO (RFC 4178) over the mechanisms a server runs. It picks the client's most preferred
// mechanism it can run, answering with the OID the client used; feeds the optimistic token only to the mechanism it
// was made for; enforces the mechListMIC rules of §5 (downgrade protection); and passes a raw mechanism token (a
// Kerberos AP-REQ sent without SPNEGO) straight to its mechanism. Bounded: see ACCEPTOR_LIMITS. The GSS acceptor
// runs it (lib/providers/spnego-acceptor.ts, gssapi-acceptor.ts).
import { GSS_S_BAD_MECH, GSS_S_BAD_MIC, GSS_S_DEFECTIVE_TOKEN, GSS_S_FAILURE, SpnegoFailure, type SpnegoFailureReason } from './failure.js';
import { mechanismFailed, type Awaitable, type MechanismFailed, type MechanismStep, type SpnegoMechanism } from './mechanism.js';
import { MECH_OID } from './oids.js';
import { SpnegoError, decodeNegToken, encodeNegTokenResp, unwrapInitialContextToken, type NegState, type NegTokenInit, type NegTokenResp } from './tokens.js';

/**
 * Bounds on what one peer can make the acceptor hold or try. 64 KiB is above Windows' MaxTokenSize default (48,000
 * bytes, which fits a Kerberos ticket with a large PAC) and what an HTTP header can carry; real mechanism lists have
 * two to four entries.
 */
export const ACCEPTOR_LIMITS = { maxTokenBytes: 64 * 1024, maxMechTypes: 16 } as const;

export interface AcceptorLimits {
  maxTokenBytes: number;
  maxMechTypes: number;
}

/** What one acceptor leg produced: the token for the initiator (empty when there is none). */
export interface AcceptorOutput<S extends MechanismStep> {
  complete: boolean;
  token: Buffer;
  /** The mechanism's step in this leg, when it ran one. */
  mechStep?: S;
}

type State = 'start' | 'mech' | 'mic' | 'raw' | 'done' | 'failed';

export class AcceptorMachine<S extends MechanismStep, F> {
  private state: State = 'start';
  private busy = false;
  private mech?: SpnegoMechanism<S, F>;
  /** The selected mechanism as the client named it: what supportedMech answers, so a Windows client
   * that lists Microsoft's Kerberos OID first gets that OID back (lib/protocol/oids.ts). */
  private oid?: string;
  /** The mechTypes exactly as received: what both mechListMICs cover (RFC 4178 §5 a). */
  private mechTypesDer?: Buffer;
  private micRequired = false;
  private firstReplySent = false;
  /** A NegTokenInit was read: from now on every answer, a failure's too, is a NegTokenResp. */
  private spnego = false;

  constructor(
    private readonly mechanisms: ReadonlyArray<SpnegoMechanism<S, F>>,
    private readonly limits: AcceptorLimits = ACCEPTOR_LIMITS,
  ) {}

  /** The mechanism the negotiation selected, the OID the client named it by, and whether SPNEGO framed it. */
  get selected(): { mechanism: SpnegoMechanism<S, F>; oid: string; framing: 'spnego' | 'raw' } | undefined {
    if (!this.mech || !this.oid) return undefined;
    return { mechanism: this.mech, oid: this.oid, framing: this.spnego ? 'spnego' : 'raw' };
  }

  /** One leg: the initiator's token in, the reply out. Never throws for any input. */
  async step(input: Buffer): Promise<AcceptorOutput<S> | SpnegoFailure<F>> {
    if (this.busy) return new SpnegoFailure('unexpected', GSS_S_FAILURE, 'a token arrived while the previous one was still being processed');
    if (this.state === 'done' || this.state === 'failed') {
      return new SpnegoFailure('unexpected', GSS_S_DEFECTIVE_TOKEN, `a token arrived after the exchange ${this.state === 'done' ? 'completed' : 'failed'}`);
    }
    if (input.length === 0) return this.fail('malformed', GSS_S_DEFECTIVE_TOKEN, 'the token is empty');
    if (input.length > this.limits.maxTokenBytes) {
      return this.fail('malformed', GSS_S_DEFECTIVE_TOKEN, `the token is ${input.length} bytes, over the limit of ${this.limits.maxTokenBytes}`);
    }
    this.busy = true;
    try {
      switch (this.state) {
        case 'start': return await this.first(input);
        case 'raw': return await this.raw(input);
        case 'mech': return await this.mechLeg(input);
        default: return await this.micLeg(input);
      }
    } finally {
      this.busy = false;
    }
  }

  /** The first token: a SPNEGO NegTokenInit in its RFC 2743 framing, or a raw token of one of our mechanisms. */
  private async first(input: Buffer): Promise<AcceptorOutput<S> | SpnegoFailure<F>> {
    let oid: string;
    try {
      oid = unwrapInitialContextToken(input).oid;
    } catch (err) {
      if (err instanceof SpnegoError) return this.fail('malformed', GSS_S_DEFECTIVE_TOKEN, `not an initial context token (RFC 2743 §3.1): ${err.reason}`);
      throw err;
    }
    if (oid !== MECH_OID.SPNEGO) {
      // A raw mechanism token (Wine's and some Java clients' way): no negotiation, the mechanism answers raw.
      const mech = this.mechanisms.find((m) => m.oids.includes(oid));
      if (!mech) return this.fail('bad-mech', GSS_S_BAD_MECH, `a raw token for ${shownOid(oid)}, which no mechanism here runs`);
      this.mech = mech;
      this.oid = oid;
      this.state = 'raw';
      return this.raw(input);
    }
    let init: NegTokenInit;
    try {
      const decoded = decodeNegToken(input);
      if (decoded.kind !== 'init') return this.fail('unexpected', GSS_S_DEFECTIVE_TOKEN, 'the initial token is not a NegTokenInit');
      init = decoded.token;
    } catch (err) {
      if (err instanceof SpnegoError) return this.fail('malformed', GSS_S_DEFECTIVE_TOKEN, err.reason);
      throw err;
    }
    return this.negotiate(init);
  }

  private async negotiate(init: NegTokenInit): Promise<AcceptorOutput<S> | SpnegoFailure<F>> {
    this.spnego = true;
    if (init.mechTypes.length > this.limits.maxMechTypes) {
      return this.fail('malformed', GSS_S_DEFECTIVE_TOKEN, `${init.mechTypes.length} mechanisms offered, over the limit of ${this.limits.maxMechTypes}`);
    }
    // RFC 4178 §3.2 (c): the first mechanism in the initiator's list that we run, under the OID it used.
    let index = -1;
    for (let i = 0; i < init.mechTypes.length && index < 0; i++) {
      const mech = this.mechanisms.find((m) => m.oids.includes(init.mechTypes[i]));
      if (mech) {
        index = i;
        this.mech = mech;
        this.oid = init.mechTypes[i];
      }
    }
    if (!this.mech) return this.fail('bad-mech', GSS_S_BAD_MECH, `no mechanism in common (offered: ${shownOids(init.mechTypes)})`);
    this.mechTypesDer = init.mechTypesDer;
    // RFC 4178 §5: the MIC exchange is optional only when the selected mechanism is the initiator's first choice
    // (the acceptor runs every mechanism it selects, so it is ours too), and when the mechanism asks for it.
    this.micRequired = index !== 0 || this.mech.requiresMic === true;
    // The optimistic token is for the initiator's first mechanism only (RFC 4178 §3.2 (d), §5); otherwise it is
    // dropped and the mechanism starts with the initiator's next token.
    if (index === 0 && init.mechToken && init.mechToken.length > 0) return this.runMech(init.mechToken);
    this.state = 'mech';
    return this.reply({ negState: this.micRequired ? 'request-mic' : 'accept-incomplete' }, false);
  }

  /** A later SPNEGO leg while the mechanism is running: the initiator's NegTokenResp with its next mechanism token. */
  private async mechLeg(input: Buffer): Promise<AcceptorOutput<S> | SpnegoFailure<F>> {
    const resp = this.readResp(input);
    if (resp instanceof SpnegoFailure) return resp;
    if (!resp.responseToken || resp.responseToken.length === 0) {
      return this.fail('unexpected', GSS_S_DEFECTIVE_TOKEN, 'the initiator sent no mechanism token while the mechanism was running');
    }
    return this.runMech(resp.responseToken, resp.mechListMIC);
  }

  /** One mechanism step, then the reply RFC 4178 §5 asks for at that point. */
  private async runMech(token: Buffer, initiatorMic?: Buffer): Promise<AcceptorOutput<S> | SpnegoFailure<F>> {
    const mech = this.mech!;
    const step = await mech.step(token);
    if (mechanismFailed<F>(step)) return this.mechanismFailure(step);
    if (!step.complete) {
      if (initiatorMic) return this.fail('unexpected', GSS_S_DEFECTIVE_TOKEN, 'a mechListMIC arrived before the mechanism completed');
      this.state = 'mech';
      return this.reply({ negState: this.micRequired && !this.firstReplySent ? 'request-mic' : 'accept-incomplete', responseToken: step.token }, false, step);
    }
    const responseToken = step.token.length > 0 ? step.token : undefined;
    if (initiatorMic) {
      // RFC 4178 §5 (c): the initiator sent its MIC with its last mechanism token; we verify it and answer with ours.
      const bad = await this.verify(initiatorMic);
      if (bad) return bad;
      const mic = await this.ourMic();
      if (mechanismFailed<F>(mic)) return this.mechanismFailure(mic);
      this.state = 'done';
      return this.reply({ negState: 'accept-completed', responseToken, mechListMIC: mic }, true, step);
    }
    if (this.micRequired) {
      // RFC 4178 §5 (b): ours goes with our last mechanism token and the initiator must answer with its own (a
      // missing one, where §5 (c) required it with the initiator's last token, gets the same chance to follow).
      const mic = await this.ourMic();
      if (mechanismFailed<F>(mic)) return this.mechanismFailure(mic);
      this.state = 'mic';
      return this.reply({ negState: this.firstReplySent ? 'accept-incomplete' : 'request-mic', responseToken, mechListMIC: mic }, false, step);
    }
    this.state = 'done';
    return this.reply({ negState: 'accept-completed', responseToken }, true, step);
  }

  /** The initiator's answer to our MIC: its own, and nothing else. */
  private async micLeg(input: Buffer): Promise<AcceptorOutput<S> | SpnegoFailure<F>> {
    const resp = this.readResp(input);
    if (resp instanceof SpnegoFailure) return resp;
    if (resp.responseToken && resp.responseToken.length > 0) {
      return this.fail('unexpected', GSS_S_DEFECTIVE_TOKEN, 'a mechanism token arrived after the mechanism completed');
    }
    if (!resp.mechListMIC) {
      return this.fail('mic-missing', GSS_S_BAD_MIC, 'the initiator did not send the mechListMIC that this negotiation requires');
    }
    const bad = await this.verify(resp.mechListMIC);
    if (bad) return bad;
    this.state = 'done';
    return this.reply({ negState: 'accept-completed' }, true);
  }

  /** Raw mode: every token goes to the mechanism as it is, and its tokens come back as they are. */
  private async raw(input: Buffer): Promise<AcceptorOutput<S> | SpnegoFailure<F>> {
    const step = await this.mech!.step(input);
    if (mechanismFailed<F>(step)) return this.mechanismFailure(step);
    if (step.complete) this.state = 'done';
    return { complete: step.complete, token: step.token, mechStep: step };
  }

  /** The initiator's NegTokenResp: a NegTokenResp, naming no other mechanism than ours, and not a reject. */
  private readResp(input: Buffer): NegTokenResp | SpnegoFailure<F> {
    let resp: NegTokenResp;
    try {
      const decoded = decodeNegToken(input);
      if (decoded.kind !== 'resp') return this.fail('unexpected', GSS_S_DEFECTIVE_TOKEN, 'expected a NegTokenResp from the initiator, got a NegTokenInit');
      resp = decoded.token;
    } catch (err) {
      if (err instanceof SpnegoError) return this.fail('malformed', GSS_S_DEFECTIVE_TOKEN, err.reason);
      throw err;
    }
    if (resp.negState === 'reject') {
      const failure = this.fail('rejected', GSS_S_FAILURE, 'the initiator abandoned the negotiation (reject)');
      // Nothing to answer to a reject.
      return new SpnegoFailure(failure.reason, failure.major, failure.detail);
    }
    if (resp.supportedMech !== undefined && resp.supportedMech !== this.oid) {
      return this.fail('unexpected', GSS_S_DEFECTIVE_TOKEN, `the initiator named ${shownOid(resp.supportedMech)}, not the selected ${this.oid}`);
    }
    return resp;
  }

  private async verify(mic: Buffer): Promise<SpnegoFailure<F> | undefined> {
    const bad = await this.mech!.verifyMic(this.mechTypesDer!, mic);
    if (!bad) return undefined;
    return this.fail('mic-bad', GSS_S_BAD_MIC, 'the initiator\'s mechListMIC does not verify: the mechanism list was altered (a downgrade)', bad.failure);
  }

  private ourMic(): Awaitable<Buffer | MechanismFailed<F>> {
    return this.mech!.getMic(this.mechTypesDer!);
  }

  /** A NegTokenResp to the initiator; the first one names the selected mechanism (RFC 4178 §4.2.2). */
  private reply(resp: { negState: NegState; responseToken?: Buffer; mechListMIC?: Buffer }, complete: boolean, mechStep?: S): AcceptorOutput<S> {
    const token = encodeNegTokenResp({ ...resp, supportedMech: this.firstReplySent ? undefined : this.oid });
    this.firstReplySent = true;
    return mechStep ? { complete, token, mechStep } : { complete, token };
  }

  /** The mechanism failed: its failure as it is, and its error token for the peer (in a reject, or raw). */
  private mechanismFailure(failed: MechanismFailed<F>): SpnegoFailure<F> {
    return this.fail('mechanism', GSS_S_FAILURE, 'the mechanism failed', failed.failure, failed.token);
  }

  /**
   * Ends the exchange. Under SPNEGO the initiator is told so with a reject (RFC 4178 §4.2.2), carrying the
   * mechanism's error token when there is one; a raw error token goes back raw; a token we could not read gets none.
   */
  private fail(reason: SpnegoFailureReason, major: number, detail: string, mechanism?: F, errorToken?: Buffer): SpnegoFailure<F> {
    this.state = 'failed';
    const token = this.spnego
      ? encodeNegTokenResp({ negState: 'reject', responseToken: errorToken && errorToken.length > 0 ? errorToken : undefined })
      : errorToken;
    return new SpnegoFailure(reason, major, detail, mechanism, token);
  }
}

/**
 * An OID the peer sent, for a failure's detail: the peer chooses its length (one can fill most of a 64 KiB token) and
 * the detail reaches SecurityError messages and server logs, so it is cut.
 */
function shownOid(oid: string): string {
  return oid.length > 64 ? `${oid.slice(0, 64)}... (${oid.length} characters)` : oid;
}

/** The peer's mechanism list, for a failure's detail: at most eight OIDs, each cut by shownOid. */
function shownOids(oids: string[]): string {
  const shown = oids.slice(0, 8).map(shownOid).join(', ');
  return oids.length > 8 ? `${shown} and ${oids.length - 8} more` : shown;
}
