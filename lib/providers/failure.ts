// The one failure type of the GSS provider (docs/architecture.md, "One error model"). A failed GSS call, or a failure
// of our own layers told in GSS terms, is a Failure: its SEC status, decided once by the status table
// (gssapi-status.ts, failureOf), and the GSS major/minor with their display texts, kept whatever happens above.
// Policy above the table (the SPNEGO verdicts, the NTLM refusal) may choose another status, only through withStatus.
import type { GssStatusDetail } from '../vocabulary/status.js';

export interface Failure {
  /** The SEC_E_* status the caller reads. */
  readonly status: number;
  /** What the GSS library said (or our layer, in the same shape: minor 0, our reason as minorText). */
  readonly gss: GssStatusDetail;
  /** A sentence saying what went wrong, beyond the status. */
  readonly detail?: string;
}

/** The one discriminator: a Failure, or the call's result (no result type of ours carries `gss` and `status`). */
export function isFailure<T extends object>(v: T | Failure): v is Failure {
  return 'gss' in v && 'status' in v;
}

/**
 * Policy's verdict on a failure: another status, for a reason (`why`, the new detail), with the GSS codes and texts
 * of the original kept, so the caller still reads what the library said. The only way a status is changed after
 * the table chose it.
 */
export function withStatus(failure: Failure, status: number, why: string): Failure {
  return { status, gss: failure.gss, detail: why };
}

/** A failure as an outcome of the Provider interface (InitializeOutcome, MessageOutcome, AttributeOutcome). */
export function outcomeOf(failure: Failure): { status: number; gss: GssStatusDetail; detail?: string } {
  const outcome: { status: number; gss: GssStatusDetail; detail?: string } = { status: failure.status, gss: failure.gss };
  if (failure.detail) outcome.detail = failure.detail;
  return outcome;
}
