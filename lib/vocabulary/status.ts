// SSPI status codes (SECURITY_STATUS, winerror.h), their names and messages, and SecurityError. Vocabulary only.

/** Every status this library returns, with the value Windows uses. */
export const SEC_E_OK = 0x00000000;
export const SEC_I_CONTINUE_NEEDED = 0x00090312;
export const SEC_I_COMPLETE_NEEDED = 0x00090313;
export const SEC_I_COMPLETE_AND_CONTINUE = 0x00090314;
export const SEC_I_RENEGOTIATE = 0x00090321;
export const SEC_E_INSUFFICIENT_MEMORY = 0x80090300 | 0;
export const SEC_E_INVALID_HANDLE = 0x80090301 | 0;
export const SEC_E_UNSUPPORTED_FUNCTION = 0x80090302 | 0;
export const SEC_E_TARGET_UNKNOWN = 0x80090303 | 0;
export const SEC_E_INTERNAL_ERROR = 0x80090304 | 0;
export const SEC_E_SECPKG_NOT_FOUND = 0x80090305 | 0;
export const SEC_E_NOT_OWNER = 0x80090306 | 0;
export const SEC_E_INVALID_TOKEN = 0x80090308 | 0;
export const SEC_E_QOP_NOT_SUPPORTED = 0x8009030a | 0;
export const SEC_E_LOGON_DENIED = 0x8009030c | 0;
export const SEC_E_UNKNOWN_CREDENTIALS = 0x8009030d | 0;
export const SEC_E_NO_CREDENTIALS = 0x8009030e | 0;
export const SEC_E_MESSAGE_ALTERED = 0x8009030f | 0;
export const SEC_E_OUT_OF_SEQUENCE = 0x80090310 | 0;
export const SEC_E_NO_AUTHENTICATING_AUTHORITY = 0x80090311 | 0;
export const SEC_E_CONTEXT_EXPIRED = 0x80090317 | 0;
export const SEC_E_INCOMPLETE_MESSAGE = 0x80090318 | 0;
export const SEC_E_BUFFER_TOO_SMALL = 0x80090321 | 0;
export const SEC_E_WRONG_PRINCIPAL = 0x80090322 | 0;
export const SEC_E_TIME_SKEW = 0x80090324 | 0;
export const SEC_E_ENCRYPT_FAILURE = 0x80090329 | 0;
export const SEC_E_DECRYPT_FAILURE = 0x80090330 | 0;
export const SEC_E_KDC_INVALID_REQUEST = 0x80090340 | 0;
export const SEC_E_KDC_UNABLE_TO_REFER = 0x80090341 | 0;
export const SEC_E_KDC_UNKNOWN_ETYPE = 0x80090342 | 0;
export const SEC_E_BAD_BINDINGS = 0x80090346 | 0;
export const SEC_E_NO_KERB_KEY = 0x80090348 | 0;
export const SEC_E_DOWNGRADE_DETECTED = 0x80090350 | 0;
export const SEC_E_DELEGATION_POLICY = 0x8009035e | 0;
export const SEC_E_MUTUAL_AUTH_FAILED = 0x80090363 | 0;
export const SEC_E_INVALID_PARAMETER = 0x8009035d | 0;

/** Name, then the message Windows' FormatMessage gives for it (shortened where Windows rambles). */
const TABLE: ReadonlyArray<readonly [number, string, string]> = [
  [SEC_E_OK, 'SEC_E_OK', 'The operation completed successfully.'],
  [SEC_I_CONTINUE_NEEDED, 'SEC_I_CONTINUE_NEEDED', 'The function completed successfully, but must be called again to complete the context.'],
  [SEC_I_COMPLETE_NEEDED, 'SEC_I_COMPLETE_NEEDED', 'The function completed successfully, but CompleteToken must be called.'],
  [SEC_I_COMPLETE_AND_CONTINUE, 'SEC_I_COMPLETE_AND_CONTINUE', 'The function completed successfully, but both CompleteToken and this function must be called to complete the context.'],
  [SEC_I_RENEGOTIATE, 'SEC_I_RENEGOTIATE', 'The context has expired and can no longer be used.'],
  [SEC_E_INSUFFICIENT_MEMORY, 'SEC_E_INSUFFICIENT_MEMORY', 'Not enough memory is available to complete this request.'],
  [SEC_E_INVALID_HANDLE, 'SEC_E_INVALID_HANDLE', 'The handle specified is invalid.'],
  [SEC_E_UNSUPPORTED_FUNCTION, 'SEC_E_UNSUPPORTED_FUNCTION', 'The function requested is not supported.'],
  [SEC_E_TARGET_UNKNOWN, 'SEC_E_TARGET_UNKNOWN', 'The specified target is unknown or unreachable.'],
  [SEC_E_INTERNAL_ERROR, 'SEC_E_INTERNAL_ERROR', 'An error occurred that did not map to an SSPI error code.'],
  [SEC_E_SECPKG_NOT_FOUND, 'SEC_E_SECPKG_NOT_FOUND', 'The requested security package does not exist.'],
  [SEC_E_NOT_OWNER, 'SEC_E_NOT_OWNER', 'The caller is not the owner of the desired credentials.'],
  [SEC_E_INVALID_TOKEN, 'SEC_E_INVALID_TOKEN', 'The token supplied to the function is invalid.'],
  [SEC_E_QOP_NOT_SUPPORTED, 'SEC_E_QOP_NOT_SUPPORTED', 'The per-message Quality of Protection is not supported by the security package.'],
  [SEC_E_LOGON_DENIED, 'SEC_E_LOGON_DENIED', 'The logon attempt failed.'],
  [SEC_E_UNKNOWN_CREDENTIALS, 'SEC_E_UNKNOWN_CREDENTIALS', 'The credentials supplied to the package were not recognized.'],
  [SEC_E_NO_CREDENTIALS, 'SEC_E_NO_CREDENTIALS', 'No credentials are available in the security package.'],
  [SEC_E_MESSAGE_ALTERED, 'SEC_E_MESSAGE_ALTERED', 'The message or signature supplied for verification has been altered.'],
  [SEC_E_OUT_OF_SEQUENCE, 'SEC_E_OUT_OF_SEQUENCE', 'The message supplied for verification is out of sequence.'],
  [SEC_E_NO_AUTHENTICATING_AUTHORITY, 'SEC_E_NO_AUTHENTICATING_AUTHORITY', 'No authority could be contacted for authentication.'],
  [SEC_E_CONTEXT_EXPIRED, 'SEC_E_CONTEXT_EXPIRED', 'The context has expired and can no longer be used.'],
  [SEC_E_INCOMPLETE_MESSAGE, 'SEC_E_INCOMPLETE_MESSAGE', 'The supplied message is incomplete. The signature was not verified.'],
  [SEC_E_BUFFER_TOO_SMALL, 'SEC_E_BUFFER_TOO_SMALL', 'The buffers supplied to a function was too small.'],
  [SEC_E_WRONG_PRINCIPAL, 'SEC_E_WRONG_PRINCIPAL', 'The target principal name is incorrect.'],
  [SEC_E_TIME_SKEW, 'SEC_E_TIME_SKEW', 'The clocks on the client and server machines are skewed.'],
  [SEC_E_ENCRYPT_FAILURE, 'SEC_E_ENCRYPT_FAILURE', 'The specified data could not be encrypted.'],
  [SEC_E_DECRYPT_FAILURE, 'SEC_E_DECRYPT_FAILURE', 'The specified data could not be decrypted.'],
  [SEC_E_KDC_INVALID_REQUEST, 'SEC_E_KDC_INVALID_REQUEST', 'An invalid request was sent to the KDC.'],
  [SEC_E_KDC_UNABLE_TO_REFER, 'SEC_E_KDC_UNABLE_TO_REFER', 'The KDC was unable to generate a referral for the service requested.'],
  [SEC_E_KDC_UNKNOWN_ETYPE, 'SEC_E_KDC_UNKNOWN_ETYPE', 'The encryption type requested is not supported by the KDC.'],
  [SEC_E_BAD_BINDINGS, 'SEC_E_BAD_BINDINGS', "The client's supplied channel bindings were incorrect."],
  [SEC_E_NO_KERB_KEY, 'SEC_E_NO_KERB_KEY', 'No Kerberos key was found.'],
  [SEC_E_DOWNGRADE_DETECTED, 'SEC_E_DOWNGRADE_DETECTED', 'The system detected a possible attempt to compromise security.'],
  [SEC_E_DELEGATION_POLICY, 'SEC_E_DELEGATION_POLICY', 'The credentials provided were not delegable by policy.'],
  [SEC_E_MUTUAL_AUTH_FAILED, 'SEC_E_MUTUAL_AUTH_FAILED', 'The server did not respond to mutual authentication, or its reply did not verify.'],
  [SEC_E_INVALID_PARAMETER, 'SEC_E_INVALID_PARAMETER', 'One or more of the parameters passed to the function was invalid.'],
];

const BY_CODE = new Map<number, { name: string; message: string }>(TABLE.map(([code, name, message]) => [code | 0, { name, message }]));

/** The symbolic name of a status, e.g. `SEC_E_LOGON_DENIED`; `0x...` for a code we do not know. */
export function statusName(status: number): string {
  if (typeof status !== 'number') throw new TypeError('statusName: status must be a number (SEC_E_* / SEC_I_*)');
  return BY_CODE.get(status | 0)?.name ?? hex(status);
}

/** The Windows message for a status. */
export function statusMessage(status: number): string {
  return BY_CODE.get(status | 0)?.message ?? 'Unknown security status.';
}

/** `0x80090308` style: the unsigned hex form Windows prints. */
export function hex(status: number): string {
  return `0x${(status >>> 0).toString(16).padStart(8, '0')}`;
}

/** True for SEC_E_OK and the SEC_I_* informational codes (SUCCEEDED() in C). */
export function isSuccess(status: number): boolean {
  return (status | 0) >= 0;
}

/** Every status code this library knows, by name. */
export function knownStatuses(): ReadonlyArray<{ code: number; name: string; message: string }> {
  return TABLE.map(([code, name, message]) => ({ code: code | 0, name, message }));
}

/** What the GSS library said, kept on every failure: the major and minor status and their display texts. */
export interface GssStatusDetail {
  major: number;
  minor: number;
  majorText: string;
  minorText: string;
}

/**
 * An SSPI failure as an exception, for callers of the idiomatic layer. Carries the status (name and hex code), and
 * for a GSS backend the major/minor statuses and their text. Never carries token bytes or secrets.
 */
export class SecurityError extends Error {
  readonly status: number;
  readonly statusName: string;
  readonly code: string;
  readonly gss?: GssStatusDetail;

  constructor(status: number, detail?: string, gss?: GssStatusDetail) {
    if (typeof status !== 'number') throw new TypeError('SecurityError: status must be a number (SEC_E_* / SEC_I_*)');
    const name = statusName(status);
    const parts = [`${name} (${hex(status)}): ${statusMessage(status)}`];
    if (detail) parts.push(detail);
    if (gss) parts.push(`GSS major ${hex(gss.major)} "${gss.majorText}", minor ${gss.minor | 0} "${gss.minorText}"`);
    super(parts.join(' '));
    this.name = 'SecurityError';
    this.status = status | 0;
    this.statusName = name;
    this.code = hex(status);
    if (gss) this.gss = gss;
  }
}
