// GSS-API status codes (RFC 2744 §3.9.1) and the krb5 com_err table bases: the numbers, defined once. Data only:
// no koffi, no policy, no mapping (that is lib/providers/gssapi-status.ts). Imports nothing, so every layer that
// speaks of GSS statuses (the SPNEGO protocol module reports its failures as the major a GSS mechanism would
// return) can read it without reaching the native declarations.

// A major status holds a calling error (bits 24-31), a routine error (bits 16-23) and supplementary bits (0-15).
export const GSS_C_CALLING_ERROR_OFFSET = 24;
export const GSS_C_ROUTINE_ERROR_OFFSET = 16;
export const GSS_C_SUPPLEMENTARY_OFFSET = 0;
export const GSS_C_CALLING_ERROR_MASK = 0xff;
export const GSS_C_ROUTINE_ERROR_MASK = 0xff;
export const GSS_C_SUPPLEMENTARY_MASK = 0xffff;

export const GSS_S_COMPLETE = 0;

// Calling errors: a bad argument from the caller (us).
export const GSS_S_CALL_INACCESSIBLE_READ = (1 << GSS_C_CALLING_ERROR_OFFSET) >>> 0;
export const GSS_S_CALL_INACCESSIBLE_WRITE = (2 << GSS_C_CALLING_ERROR_OFFSET) >>> 0;
export const GSS_S_CALL_BAD_STRUCTURE = (3 << GSS_C_CALLING_ERROR_OFFSET) >>> 0;

// Routine errors.
export const GSS_S_BAD_MECH = 1 << GSS_C_ROUTINE_ERROR_OFFSET;
export const GSS_S_BAD_NAME = 2 << GSS_C_ROUTINE_ERROR_OFFSET;
export const GSS_S_BAD_NAMETYPE = 3 << GSS_C_ROUTINE_ERROR_OFFSET;
export const GSS_S_BAD_BINDINGS = 4 << GSS_C_ROUTINE_ERROR_OFFSET;
export const GSS_S_BAD_STATUS = 5 << GSS_C_ROUTINE_ERROR_OFFSET;
export const GSS_S_BAD_SIG = 6 << GSS_C_ROUTINE_ERROR_OFFSET;
export const GSS_S_BAD_MIC = GSS_S_BAD_SIG;
export const GSS_S_NO_CRED = 7 << GSS_C_ROUTINE_ERROR_OFFSET;
export const GSS_S_NO_CONTEXT = 8 << GSS_C_ROUTINE_ERROR_OFFSET;
export const GSS_S_DEFECTIVE_TOKEN = 9 << GSS_C_ROUTINE_ERROR_OFFSET;
export const GSS_S_DEFECTIVE_CREDENTIAL = 10 << GSS_C_ROUTINE_ERROR_OFFSET;
export const GSS_S_CREDENTIALS_EXPIRED = 11 << GSS_C_ROUTINE_ERROR_OFFSET;
export const GSS_S_CONTEXT_EXPIRED = 12 << GSS_C_ROUTINE_ERROR_OFFSET;
export const GSS_S_FAILURE = 13 << GSS_C_ROUTINE_ERROR_OFFSET;
export const GSS_S_BAD_QOP = 14 << GSS_C_ROUTINE_ERROR_OFFSET;
export const GSS_S_UNAUTHORIZED = 15 << GSS_C_ROUTINE_ERROR_OFFSET;
export const GSS_S_UNAVAILABLE = 16 << GSS_C_ROUTINE_ERROR_OFFSET;
export const GSS_S_DUPLICATE_ELEMENT = 17 << GSS_C_ROUTINE_ERROR_OFFSET;
export const GSS_S_NAME_NOT_MN = 18 << GSS_C_ROUTINE_ERROR_OFFSET;

// Supplementary information bits.
export const GSS_S_CONTINUE_NEEDED = 1 << 0;
export const GSS_S_DUPLICATE_TOKEN = 1 << 1;
export const GSS_S_OLD_TOKEN = 1 << 2;
export const GSS_S_UNSEQ_TOKEN = 1 << 3;
export const GSS_S_GAP_TOKEN = 1 << 4;

/** The calling-error field of a major status (GSS_CALLING_ERROR() in C, shifted down). */
export function callingError(major: number): number {
  return (major >>> GSS_C_CALLING_ERROR_OFFSET) & GSS_C_CALLING_ERROR_MASK;
}

/** The routine-error field of a major status (GSS_ROUTINE_ERROR() in C, shifted down): 1 for GSS_S_BAD_MECH, ... */
export function routineError(major: number): number {
  return (major >>> GSS_C_ROUTINE_ERROR_OFFSET) & GSS_C_ROUTINE_ERROR_MASK;
}

/** True when `major` carries a routine or calling error (GSS_ERROR() in C). */
export function gssError(major: number): boolean {
  return callingError(major) !== 0 || routineError(major) !== 0;
}

// com_err table bases (signed int32): a table's codes are its base plus their index. The krb5 table "KRB5" is shared
// by MIT and Heimdal (krb5_err.h: ERROR_TABLE_BASE_krb5); a KRB-ERROR's error-code (RFC 4120 §7.5.9) plus this
// base is its minor status. "k5g" is MIT's krb5 GSS mechanism (gssapi_err_krb5.h), "asn1" the ASN.1 codec errors.
export const KRB5_ERROR_BASE = -1765328384;
export const K5G_ERROR_BASE = 39756032;
export const ASN1_ERROR_BASE = 1859794432;
