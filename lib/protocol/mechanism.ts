// What the SPNEGO state machines need of a mechanism (RFC 4178 §3: SPNEGO negotiates, the mechanism authenticates).
// The GSS krb5 context is one implementation (providers/spnego-initiator.ts); the unit tests drive a fake one. This
// layer never learns what a mechanism's failure contains: it carries it back to the provider untouched, so that the
// mechanism's own codes (a krb5 minor) reach the caller.

/** One context-establishment step of a mechanism. Implementations add what their caller needs (flags, expiry). */
export interface MechanismStep {
  /** The mechanism context is established (GSS_S_COMPLETE). */
  complete: boolean;
  /** The token for the peer; empty when there is none. */
  token: Buffer;
}

/** A mechanism's failure, carried as it is. `token` is an error token for the peer (a KRB-ERROR) when there is one. */
export interface MechanismFailed<F> {
  readonly failure: F;
  readonly token?: Buffer;
}

/** A mechanism may answer at once (GSS and SSPI MIC calls are local) or later (one in another process). */
export type Awaitable<T> = T | Promise<T>;

export interface SpnegoMechanism<S extends MechanismStep = MechanismStep, F = unknown> {
  /**
   * The OIDs this mechanism answers to, its own first: an initiator offers the first, and a peer may name any of
   * them (Kerberos has two, lib/protocol/oids.ts).
   */
  readonly oids: readonly string[];
  /**
   * The mechanism wants the mechListMIC exchange even when it was everyone's first choice (RFC 4178 §5 leaves it
   * optional then). Kerberos does not.
   */
  readonly requiresMic?: boolean;
  /** One leg: the peer's token in (none for an initiator's first leg), ours out. */
  step(input?: Buffer): Promise<S | MechanismFailed<F>>;
  /** GSS_GetMIC over `message`, once the context is established (RFC 2743 §2.3.1). */
  getMic(message: Buffer): Awaitable<Buffer | MechanismFailed<F>>;
  /** GSS_VerifyMIC; undefined when the MIC is good (RFC 2743 §2.3.2). */
  verifyMic(message: Buffer, mic: Buffer): Awaitable<MechanismFailed<F> | undefined>;
}

export function mechanismFailed<F>(r: object | undefined): r is MechanismFailed<F> {
  return r !== undefined && !Buffer.isBuffer(r) && 'failure' in r;
}
