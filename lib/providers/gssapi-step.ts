// The initiator's step over one GSS context: what we check and decide around gss_init_sec_context, above the thin
// wrapper (gssapi-native.ts). A peer's reply is checked to be well-formed Kerberos before the library parses it; a
// KRB-ERROR reporting clock skew is answered here; a generic KRB-ERROR gets the detail that explains it; and the
// call runs on the pool or on this thread by what it has to do. Our SPNEGO framing (spnego-initiator.ts) and the
// Kerberos package both step through here.
import { GSS_C_DCE_STYLE, OIDS } from '../../ffi/gssapi.js';
import { GSS_S_DEFECTIVE_TOKEN, GSS_S_FAILURE, KRB5_ERROR_BASE } from '../../ffi/gss-status.js';
import type { Failure } from './failure.js';
import { gssFailure, ownFailure, type GssContext, type StepResult } from './gssapi-native.js';
import { KRB_AP_ERR_SKEW, KRB_ERR_GENERIC, krb5ReplyProblem, krbErrorCode } from '../protocol/krb5-token.js';

/** One leg of the initiator on `context`: the peer's token in (none on the first leg), ours out. */
export function initiatorStep(context: GssContext, input?: Buffer): Promise<StepResult | Failure> {
  // Not async: the step's own promise is the only one a leg needs here (a level of hops less per leg).
  // A peer's token is read for a KRB-ERROR once per leg (it decides the checks, the thread and the detail).
  const errorCode = input ? krbErrorCode(input) : undefined;
  if (input && input.length > 0 && context.handle && context.mech === OIDS.MECH_KRB5) {
    // Heimdal's krb5 mechanism reads past the end of a malformed reply (krb5-token.ts): refused before it sees it.
    const problem = krb5ReplyProblem(input, (context.flags & GSS_C_DCE_STYLE) !== 0);
    if (problem) return Promise.resolve(ownFailure(GSS_S_DEFECTIVE_TOKEN, problem));
    // Clock skew is reported, as SSPI does, not retried with the acceptor's clock: Heimdal would keep that offset for
    // the process's later authentications (krb5-token.ts, krbErrorCode).
    if (errorCode === KRB_AP_ERR_SKEW) {
      return Promise.resolve(gssFailure(GSS_S_FAILURE, KRB5_ERROR_BASE + KRB_AP_ERR_SKEW, OIDS.MECH_KRB5, 'the acceptor\'s clock and ours differ by more than the allowed skew'));
    }
  }
  // Only the first call may fetch tickets from a KDC; reading the peer's AP-REP is local work, done on this thread
  // (no hop to the pool and back for it). A KRB-ERROR goes to the pool: Heimdal answers some (an expired ticket)
  // by asking the KDC again, which must not happen on the event loop.
  // A first call is local when the context's credential holds service tickets alone (gssapi-tickets.ts): with no
  // TGT it cannot reach a KDC whatever it finds.
  const local = context.handle ? !!input && errorCode === undefined : context.firstCallLocal && !input;
  return context.step(input, { local, detail: () => (input ? refusalDetail(errorCode, !!context.bindings) : undefined) });
}

/**
 * What a KRB-ERROR from the acceptor tells beyond its code. KRB_ERR_GENERIC says only that the acceptor refused; when
 * we sent channel bindings, bindings that differ from the acceptor's are the usual cause (MIT's acceptor reports its
 * GSS_S_BAD_BINDINGS to the peer as KRB_ERR_GENERIC: docs/status-mapping.md).
 */
function refusalDetail(errorCode: number | undefined, sentBindings: boolean): string | undefined {
  if (errorCode !== KRB_ERR_GENERIC) return undefined;
  return `the acceptor refused the authentication with a generic Kerberos error (KRB_ERR_GENERIC)${sentBindings
    ? '; channel bindings were sent, and bindings that differ from the acceptor\'s are the usual cause' : ''}`;
}
