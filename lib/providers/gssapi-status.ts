// The GSS -> SSPI status table: data, read top-down by mapGssStatus. Documented row by row in docs/status-mapping.md.
// failureOf is the one place a GSS status becomes a failure with a SEC_E status (docs/architecture.md).
import {
  ASN1_ERROR_BASE as ASN1,
  GSS_S_CONTINUE_NEEDED,
  GSS_S_DUPLICATE_TOKEN,
  GSS_S_GAP_TOKEN,
  GSS_S_OLD_TOKEN,
  GSS_S_UNSEQ_TOKEN,
  K5G_ERROR_BASE as K5G,
  KRB5_ERROR_BASE as KRB5,
  callingError,
  routineError,
} from '../../ffi/gss-status.js';
import * as S from '../vocabulary/status.js';
import type { GssStatusDetail } from '../vocabulary/status.js';
import type { Failure } from './failure.js';

/** A GSS routine error (bits 16-23 of a major status, RFC 2744 §3.9.1) and the SEC code it gives by default. */
export interface RoutineRow {
  routine: number;
  name: string;
  sec: number;
  /** The routine error names the problem exactly: it wins over the minor (a bad MIC is a bad MIC, whatever the cause). */
  exact?: boolean;
}

/** A mechanism minor status (com_err code, signed int32) that refines the default. */
export interface MinorRow {
  minor: number;
  name: string;
  sec: number;
  /** Where the same code means something else while acquiring credentials (a password logon), that code. */
  acquiring?: number;
  /** Where Windows' acceptor (AcceptSecurityContext) reports the same code differently, that code. */
  accepting?: number;
}

/** Which call failed: a credential acquisition, an acceptor's leg (acceptSecurityContext), or a context or message call. */
export type Phase = 'acquire' | 'accept' | 'context';

export const ROUTINE_ROWS: readonly RoutineRow[] = [
  { routine: 1, name: 'GSS_S_BAD_MECH', sec: S.SEC_E_SECPKG_NOT_FOUND },
  { routine: 2, name: 'GSS_S_BAD_NAME', sec: S.SEC_E_TARGET_UNKNOWN },
  { routine: 3, name: 'GSS_S_BAD_NAMETYPE', sec: S.SEC_E_TARGET_UNKNOWN },
  { routine: 4, name: 'GSS_S_BAD_BINDINGS', sec: S.SEC_E_BAD_BINDINGS, exact: true },
  { routine: 5, name: 'GSS_S_BAD_STATUS', sec: S.SEC_E_INTERNAL_ERROR },
  { routine: 6, name: 'GSS_S_BAD_SIG', sec: S.SEC_E_MESSAGE_ALTERED, exact: true },
  { routine: 7, name: 'GSS_S_NO_CRED', sec: S.SEC_E_NO_CREDENTIALS },
  { routine: 8, name: 'GSS_S_NO_CONTEXT', sec: S.SEC_E_INVALID_HANDLE },
  { routine: 9, name: 'GSS_S_DEFECTIVE_TOKEN', sec: S.SEC_E_INVALID_TOKEN },
  { routine: 10, name: 'GSS_S_DEFECTIVE_CREDENTIAL', sec: S.SEC_E_UNKNOWN_CREDENTIALS },
  { routine: 11, name: 'GSS_S_CREDENTIALS_EXPIRED', sec: S.SEC_E_CONTEXT_EXPIRED },
  { routine: 12, name: 'GSS_S_CONTEXT_EXPIRED', sec: S.SEC_E_CONTEXT_EXPIRED },
  { routine: 13, name: 'GSS_S_FAILURE', sec: S.SEC_E_INTERNAL_ERROR },
  { routine: 14, name: 'GSS_S_BAD_QOP', sec: S.SEC_E_QOP_NOT_SUPPORTED, exact: true },
  { routine: 15, name: 'GSS_S_UNAUTHORIZED', sec: S.SEC_E_LOGON_DENIED },
  { routine: 16, name: 'GSS_S_UNAVAILABLE', sec: S.SEC_E_UNSUPPORTED_FUNCTION },
  { routine: 17, name: 'GSS_S_DUPLICATE_ELEMENT', sec: S.SEC_E_INTERNAL_ERROR },
  { routine: 18, name: 'GSS_S_NAME_NOT_MN', sec: S.SEC_E_INTERNAL_ERROR },
];

/** Supplementary bits (per-message tokens): replays and reordering. Read only when no routine error is set. */
export const SUPPLEMENTARY_ROWS: ReadonlyArray<{ bit: number; name: string; sec: number }> = [
  { bit: GSS_S_DUPLICATE_TOKEN, name: 'GSS_S_DUPLICATE_TOKEN', sec: S.SEC_E_OUT_OF_SEQUENCE },
  { bit: GSS_S_OLD_TOKEN, name: 'GSS_S_OLD_TOKEN', sec: S.SEC_E_OUT_OF_SEQUENCE },
  { bit: GSS_S_UNSEQ_TOKEN, name: 'GSS_S_UNSEQ_TOKEN', sec: S.SEC_E_OUT_OF_SEQUENCE },
  { bit: GSS_S_GAP_TOKEN, name: 'GSS_S_GAP_TOKEN', sec: S.SEC_E_OUT_OF_SEQUENCE },
];

// Minor codes are com_err codes: a table's base (ffi/gss-status.ts: krb5 "KRB5", MIT's krb5 mechanism "k5g",
// "asn1") plus the code's index in it.

export const MINOR_ROWS: readonly MinorRow[] = [
  // Names the KDC does not know.
  { minor: KRB5 + 7, name: 'KRB5KDC_ERR_S_PRINCIPAL_UNKNOWN', sec: S.SEC_E_TARGET_UNKNOWN },
  { minor: KRB5 + 2, name: 'KRB5KDC_ERR_SERVICE_EXP', sec: S.SEC_E_TARGET_UNKNOWN },
  { minor: KRB5 + 19, name: 'KRB5KDC_ERR_SERVICE_REVOKED', sec: S.SEC_E_TARGET_UNKNOWN },
  { minor: KRB5 + 22, name: 'KRB5KDC_ERR_SERVICE_NOTYET', sec: S.SEC_E_TARGET_UNKNOWN },
  { minor: KRB5 + 68, name: 'KRB5KDC_ERR_WRONG_REALM', sec: S.SEC_E_TARGET_UNKNOWN },
  { minor: KRB5 + 134, name: 'KRB5_PARSE_MALFORMED', sec: S.SEC_E_TARGET_UNKNOWN },
  // The client's logon: wrong password, unknown, disabled or expired account.
  { minor: KRB5 + 6, name: 'KRB5KDC_ERR_C_PRINCIPAL_UNKNOWN', sec: S.SEC_E_LOGON_DENIED },
  { minor: KRB5 + 1, name: 'KRB5KDC_ERR_NAME_EXP', sec: S.SEC_E_LOGON_DENIED },
  { minor: KRB5 + 18, name: 'KRB5KDC_ERR_CLIENT_REVOKED', sec: S.SEC_E_LOGON_DENIED },
  { minor: KRB5 + 21, name: 'KRB5KDC_ERR_CLIENT_NOTYET', sec: S.SEC_E_LOGON_DENIED },
  { minor: KRB5 + 23, name: 'KRB5KDC_ERR_KEY_EXP', sec: S.SEC_E_LOGON_DENIED },
  { minor: KRB5 + 24, name: 'KRB5KDC_ERR_PREAUTH_FAILED', sec: S.SEC_E_LOGON_DENIED },
  // A reply that does not decrypt: a token corrupted in transit, except in a password logon, where it is the
  // wrong password of an account the KDC does not require pre-authentication for.
  { minor: KRB5 + 31, name: 'KRB5KRB_AP_ERR_BAD_INTEGRITY', sec: S.SEC_E_INVALID_TOKEN, acquiring: S.SEC_E_LOGON_DENIED },
  { minor: KRB5 + 210, name: 'KRB5_PREAUTH_FAILED', sec: S.SEC_E_LOGON_DENIED },
  // The other side refused for a reason outside the Kerberos error codes. MIT's acceptor sends every such failure as
  // KRB_ERR_GENERIC (kg_accept_krb5, src/lib/gssapi/krb5/accept_sec_context.c), channel bindings that differ
  // (GSS_S_BAD_BINDINGS) among them, and the initiator reads it back as this minor: a refused logon, not our bug.
  { minor: KRB5 + 60, name: 'KRB5KRB_ERR_GENERIC', sec: S.SEC_E_LOGON_DENIED },
  // Clocks.
  { minor: KRB5 + 37, name: 'KRB5KRB_AP_ERR_SKEW', sec: S.SEC_E_TIME_SKEW },
  { minor: KRB5 + 148, name: 'KRB5_KDCREP_SKEW', sec: S.SEC_E_TIME_SKEW },
  { minor: KRB5 + 33, name: 'KRB5KRB_AP_ERR_TKT_NYV', sec: S.SEC_E_TIME_SKEW },
  // An acceptor given an expired service ticket: Windows' Kerberos package reports KRB_AP_ERR_TKT_EXPIRED as a time
  // difference (STATUS_TIME_DIFFERENCE_AT_DC, which SSPI returns as SEC_E_TIME_SKEW): the ticket expired for the
  // server's clock, perhaps not for the client's (docs/status-mapping.md).
  { minor: KRB5 + 32, name: 'KRB5KRB_AP_ERR_TKT_EXPIRED', sec: S.SEC_E_CONTEXT_EXPIRED, accepting: S.SEC_E_TIME_SKEW },
  // The peer is not who the target name says: mutual authentication failed.
  { minor: KRB5 + 41, name: 'KRB5KRB_AP_ERR_MODIFIED', sec: S.SEC_E_WRONG_PRINCIPAL },
  { minor: KRB5 + 35, name: 'KRB5KRB_AP_ERR_NOT_US', sec: S.SEC_E_WRONG_PRINCIPAL },
  { minor: KRB5 + 36, name: 'KRB5KRB_AP_ERR_BADMATCH', sec: S.SEC_E_WRONG_PRINCIPAL },
  { minor: KRB5 + 46, name: 'KRB5KRB_AP_ERR_MUT_FAIL', sec: S.SEC_E_WRONG_PRINCIPAL },
  { minor: KRB5 + 158, name: 'KRB5_MUTUAL_FAILED', sec: S.SEC_E_WRONG_PRINCIPAL },
  // Heimdal's acceptor, for a ticket to a service whose key its keytab does not hold (MIT: KRB5KRB_AP_ERR_NOT_US).
  // While acquiring (a keytab logon) it is a keytab without the client's key.
  { minor: KRB5 + 182, name: 'KRB5_KT_END', sec: S.SEC_E_WRONG_PRINCIPAL, acquiring: S.SEC_E_NO_CREDENTIALS },
  { minor: KRB5 + 45, name: 'KRB5KRB_AP_ERR_NOKEY', sec: S.SEC_E_NO_KERB_KEY },
  { minor: KRB5 + 44, name: 'KRB5KRB_AP_ERR_BADKEYVER', sec: S.SEC_E_NO_KERB_KEY },
  // Malformed or misdirected tokens.
  { minor: KRB5 + 34, name: 'KRB5KRB_AP_ERR_REPEAT', sec: S.SEC_E_INVALID_TOKEN },
  { minor: KRB5 + 39, name: 'KRB5KRB_AP_ERR_BADVERSION', sec: S.SEC_E_INVALID_TOKEN },
  { minor: KRB5 + 40, name: 'KRB5KRB_AP_ERR_MSG_TYPE', sec: S.SEC_E_INVALID_TOKEN },
  { minor: KRB5 + 138, name: 'KRB5_BADMSGTYPE', sec: S.SEC_E_INVALID_TOKEN },
  // Found by the fuzz campaign: fields of a mangled Kerberos message that name no valid version or enctype.
  { minor: KRB5 + 3, name: 'KRB5KDC_ERR_BAD_PVNO', sec: S.SEC_E_INVALID_TOKEN },
  { minor: KRB5 + 188, name: 'KRB5_BAD_ENCTYPE', sec: S.SEC_E_INVALID_TOKEN },
  { minor: KRB5 + 190, name: 'KRB5_BAD_MSIZE', sec: S.SEC_E_INVALID_TOKEN },
  { minor: KRB5 + 50, name: 'KRB5KRB_AP_ERR_INAPP_CKSUM', sec: S.SEC_E_MESSAGE_ALTERED },
  { minor: K5G + 6, name: 'KG_BAD_LENGTH', sec: S.SEC_E_INVALID_TOKEN },
  { minor: K5G + 11, name: 'KG_BAD_SEQ', sec: S.SEC_E_INVALID_TOKEN },
  ...[
    'ASN1_BAD_TIMEFORMAT', 'ASN1_MISSING_FIELD', 'ASN1_MISPLACED_FIELD', 'ASN1_TYPE_MISMATCH', 'ASN1_OVERFLOW',
    'ASN1_OVERRUN', 'ASN1_BAD_ID', 'ASN1_BAD_LENGTH', 'ASN1_BAD_FORMAT', 'ASN1_PARSE_ERROR', 'ASN1_BAD_GMTIME',
    'ASN1_INDEF', 'ASN1_MISSING_EOC', 'ASN1_OMITTED',
  ].map((name, i) => ({ minor: ASN1 + i, name, sec: S.SEC_E_INVALID_TOKEN })),
  // No KDC to ask.
  { minor: KRB5 + 156, name: 'KRB5_KDC_UNREACH', sec: S.SEC_E_NO_AUTHENTICATING_AUTHORITY },
  { minor: KRB5 + 154, name: 'KRB5_REALM_UNKNOWN', sec: S.SEC_E_NO_AUTHENTICATING_AUTHORITY },
  { minor: KRB5 + 220, name: 'KRB5_REALM_CANT_RESOLVE', sec: S.SEC_E_NO_AUTHENTICATING_AUTHORITY },
  { minor: KRB5 + 224, name: 'KRB5_CONFIG_NODEFREALM', sec: S.SEC_E_NO_AUTHENTICATING_AUTHORITY },
  { minor: KRB5 + 29, name: 'KRB5KDC_ERR_SVC_UNAVAILABLE', sec: S.SEC_E_NO_AUTHENTICATING_AUTHORITY },
  // No credentials where we looked.
  { minor: KRB5 + 141, name: 'KRB5_CC_NOTFOUND', sec: S.SEC_E_NO_CREDENTIALS },
  { minor: KRB5 + 195, name: 'KRB5_FCC_NOFILE', sec: S.SEC_E_NO_CREDENTIALS },
  // Heimdal reports a missing credential cache file with the bare errno, where MIT says KRB5_FCC_NOFILE.
  { minor: 2, name: 'ENOENT', sec: S.SEC_E_NO_CREDENTIALS },
  { minor: KRB5 + 181, name: 'KRB5_KT_NOTFOUND', sec: S.SEC_E_NO_CREDENTIALS },
  { minor: KRB5 + 130, name: 'KRB5_LIBOS_CANTREADPWD', sec: S.SEC_E_NO_CREDENTIALS },
  { minor: K5G + 0, name: 'KG_CCACHE_NOMATCH', sec: S.SEC_E_NO_CREDENTIALS },
  { minor: K5G + 1, name: 'KG_KEYTAB_NOMATCH', sec: S.SEC_E_NO_CREDENTIALS },
  { minor: K5G + 2, name: 'KG_TGT_MISSING', sec: S.SEC_E_NO_CREDENTIALS },
  { minor: K5G + 12, name: 'KG_EMPTY_CCACHE', sec: S.SEC_E_NO_CREDENTIALS },
  // KDC policy and crypto.
  { minor: KRB5 + 14, name: 'KRB5KDC_ERR_ETYPE_NOSUPP', sec: S.SEC_E_KDC_UNKNOWN_ETYPE },
  { minor: KRB5 + 12, name: 'KRB5KDC_ERR_POLICY', sec: S.SEC_E_KDC_INVALID_REQUEST },
  { minor: KRB5 + 13, name: 'KRB5KDC_ERR_BADOPTION', sec: S.SEC_E_KDC_INVALID_REQUEST },
];

const ROUTINE = new Map(ROUTINE_ROWS.map((r) => [r.routine, r]));
const MINOR = new Map(MINOR_ROWS.map((r) => [r.minor, r]));

/** The symbolic name of a minor code the table knows (KRB5KDC_ERR_S_PRINCIPAL_UNKNOWN, ...). */
export function minorName(minor: number): string | undefined {
  return MINOR.get(minor | 0)?.name;
}

/** Which table row decided a mapping: for documentation, tests and error messages. */
export interface Mapping {
  sec: number;
  row: string;
}

/**
 * Maps a GSS major/minor pair to an SSPI status. Order: a calling error is our bug (INTERNAL_ERROR); then a routine
 * error marked exact (BAD_SIG, BAD_BINDINGS, BAD_QOP); then the minor code, when the table knows it (it is more
 * precise than the major: MIT reports most failures as GSS_S_FAILURE or GSS_S_NO_CRED); then the routine error's
 * default; then supplementary bits; COMPLETE and CONTINUE_NEEDED last.
 */
export function mapGssStatus(major: number, minor: number, phase: Phase = 'context'): Mapping {
  const routine = routineError(major);
  if (callingError(major) !== 0) return { sec: S.SEC_E_INTERNAL_ERROR, row: 'GSS calling error' };
  if (routine !== 0) {
    const r = ROUTINE.get(routine);
    const m = MINOR.get(minor | 0);
    if (m && !r?.exact) return { sec: (phase === 'acquire' && m.acquiring) || (phase === 'accept' && m.accepting) || m.sec, row: m.name };
    return r ? { sec: r.sec, row: r.name } : { sec: S.SEC_E_INTERNAL_ERROR, row: 'unknown routine error' };
  }
  for (const s of SUPPLEMENTARY_ROWS) if (major & s.bit) return { sec: s.sec, row: s.name };
  if (major & GSS_S_CONTINUE_NEEDED) return { sec: S.SEC_I_CONTINUE_NEEDED, row: 'GSS_S_CONTINUE_NEEDED' };
  return { sec: S.SEC_E_OK, row: 'GSS_S_COMPLETE' };
}

/**
 * The one place a GSS status becomes a failure: the SEC status the table gives `major` and `minor`, with the codes
 * and texts (`gss`, whose major and minor are `major` and `minor`) kept. `readAs` is the minor the table reads when
 * the reported one is not the mechanism's own (MIT's SPNEGO renumbers krb5 minors; gssapi-native.ts finds the krb5
 * code by its text). A failure of our own layers passes minor 0 and its reason as the minor text.
 */
export function failureOf(gss: GssStatusDetail, detail?: string, phase: Phase = 'context', readAs: number = gss.minor): Failure {
  const failure: { status: number; gss: GssStatusDetail; detail?: string } = { status: mapGssStatus(gss.major, readAs, phase).sec, gss };
  if (detail) failure.detail = detail;
  return failure;
}
