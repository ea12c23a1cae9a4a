// How the SPNEGO layer fails: a reason, the GSS major a GSS mechanism would return for it, and a sentence. The
// provider turns this into its own failure type in one function (providers/spnego-failure.ts), which picks the SEC_E
// status from the reason and keeps a mechanism's failure, when there is one, as it came.

/** The GSS routine errors this layer reports (defined once, in ffi/gss-status.ts: numbers, no native code). */
export { GSS_S_BAD_MECH, GSS_S_BAD_MIC, GSS_S_DEFECTIVE_TOKEN, GSS_S_FAILURE } from '../../ffi/gss-status.js';

export type SpnegoFailureReason =
  /** The token is not a well-formed SPNEGO token, or exceeds a documented bound. */
  | 'malformed'
  /** A well-formed token that this state does not accept (a NegTokenInit as a reply, a token after completion). */
  | 'unexpected'
  /** No mechanism in common, or the peer named one that was not offered. */
  | 'bad-mech'
  /** The acceptor answered reject (RFC 4178 §4.2.2). */
  | 'rejected'
  /** The acceptor completed without the mechanism token mutual authentication needs. */
  | 'mutual-auth'
  /** The mechListMIC exchange was required and the peer's MIC is missing (RFC 4178 §5). */
  | 'mic-missing'
  /** The peer's mechListMIC does not verify: the mechanism list was altered (a downgrade). */
  | 'mic-bad'
  /** The mechanism failed; `mechanism` is its failure, to be reported as it is. */
  | 'mechanism';

export class SpnegoFailure<F = unknown> {
  constructor(
    readonly reason: SpnegoFailureReason,
    /** The GSS major status a GSS mechanism would return for this failure. */
    readonly major: number,
    readonly detail: string,
    /** The mechanism's own failure, when it caused this one (its codes are the exact ones). */
    readonly mechanism?: F,
    /** What to send the peer about it (an acceptor's reject, with the mechanism's error token when there is one). */
    readonly token?: Buffer,
  ) {}
}
