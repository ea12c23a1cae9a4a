// The one place a SPNEGO protocol failure (lib/protocol/failure.ts) becomes the GSS provider's failure: the status is
// chosen by the reason, and a mechanism's failure keeps its GSS codes (docs/spnego.md, "SPNEGO layer").
import type { SpnegoFailure, SpnegoFailureReason } from '../protocol/failure.js';
import * as S from '../vocabulary/status.js';
import { withStatus, type Failure } from './failure.js';
import { ownFailure } from './gssapi-native.js';

const STATUS: Record<Exclude<SpnegoFailureReason, 'mechanism'>, number> = {
  malformed: S.SEC_E_INVALID_TOKEN,
  unexpected: S.SEC_E_INVALID_TOKEN,
  'bad-mech': S.SEC_E_INVALID_TOKEN,
  rejected: S.SEC_E_LOGON_DENIED,
  'mutual-auth': S.SEC_E_MUTUAL_AUTH_FAILED,
  'mic-missing': S.SEC_E_MESSAGE_ALTERED,
  'mic-bad': S.SEC_E_MESSAGE_ALTERED,
};

export function gssFailureOf(failure: SpnegoFailure<Failure>): Failure {
  // The mechanism's own failure (a krb5 minor code) is the exact answer: passed on as it is.
  if (failure.reason === 'mechanism' && failure.mechanism) return failure.mechanism;
  const status = failure.reason === 'mechanism' ? S.SEC_E_INTERNAL_ERROR : STATUS[failure.reason];
  const detail = `SPNEGO: ${failure.detail}`;
  // SPNEGO's verdict on a mechanism's answer (a MIC that does not verify): our status, the mechanism's codes. Our own
  // failure otherwise, in the major a GSS mechanism would return, with the status SPNEGO gives its reason.
  return withStatus(failure.mechanism ?? ownFailure(failure.major, detail), status, detail);
}
