// SECPKG_ATTR_* context attributes and their value shapes (sspi.h), and per-message QOP values. Vocabulary only.

export const SECPKG_ATTR_SIZES = 0;
export const SECPKG_ATTR_NAMES = 1;
export const SECPKG_ATTR_LIFESPAN = 2;
export const SECPKG_ATTR_DCE_INFO = 3;
export const SECPKG_ATTR_STREAM_SIZES = 4;
export const SECPKG_ATTR_KEY_INFO = 5;
export const SECPKG_ATTR_AUTHORITY = 6;
export const SECPKG_ATTR_PROTO_INFO = 7;
export const SECPKG_ATTR_PASSWORD_EXPIRY = 8;
export const SECPKG_ATTR_SESSION_KEY = 9;
export const SECPKG_ATTR_PACKAGE_INFO = 10;
export const SECPKG_ATTR_USER_FLAGS = 11;
export const SECPKG_ATTR_NEGOTIATION_INFO = 12;
export const SECPKG_ATTR_NATIVE_NAMES = 13;
export const SECPKG_ATTR_FLAGS = 14;

/** QueryCredentialsAttributes: the principal. (SECPKG_ATTR_LIFESPAN also answers for credentials here.) */
export const SECPKG_CRED_ATTR_NAMES = 1;

export interface CredentialAttributeValues {
  [SECPKG_CRED_ATTR_NAMES]: { userName: string };
  /**
   * `expiry`: when the TGT expires. `start` and `renewTill` (a renewable TGT) where the cache holding it can be read:
   * a renewing handle's own TGT, a named or the default cache.
   */
  [SECPKG_ATTR_LIFESPAN]: { expiry: Date; start?: Date; renewTill?: Date };
}
export type CredentialAttribute = keyof CredentialAttributeValues;

/** EncryptMessage QOP: integrity only (the data stays readable, the token protects it). */
export const SECQOP_WRAP_NO_ENCRYPT = 0x80000001 | 0;

/** SECPKG_NEGOTIATION_* states of SecPkgContext_NegotiationInfo. */
export const SECPKG_NEGOTIATION_COMPLETE = 0;
export const SECPKG_NEGOTIATION_OPTIMISTIC = 1;
export const SECPKG_NEGOTIATION_IN_PROGRESS = 2;

export interface SecPkgContextSizes {
  cbMaxToken: number;
  cbMaxSignature: number;
  cbBlockSize: number;
  cbSecurityTrailer: number;
}

export interface SecPkgContextStreamSizes {
  cbHeader: number;
  cbTrailer: number;
  cbMaximumMessage: number;
  cBuffers: number;
  cbBlockSize: number;
}

export interface SecPkgInfo {
  name: 'Kerberos' | 'Negotiate' | 'NTLM';
  comment: string;
  /** SECPKG_FLAG_* bits. */
  capabilities: number;
  version: number;
  rpcId: number;
  maxToken: number;
}

/** The value each attribute gives. */
export interface ContextAttributeValues {
  [SECPKG_ATTR_SIZES]: SecPkgContextSizes;
  [SECPKG_ATTR_NAMES]: { userName: string };
  [SECPKG_ATTR_LIFESPAN]: { start: Date; expiry: Date };
  [SECPKG_ATTR_STREAM_SIZES]: SecPkgContextStreamSizes;
  [SECPKG_ATTR_SESSION_KEY]: { sessionKey: Buffer; keyType: number };
  [SECPKG_ATTR_PACKAGE_INFO]: SecPkgInfo;
  [SECPKG_ATTR_NEGOTIATION_INFO]: { packageInfo: SecPkgInfo; negotiationState: number };
  [SECPKG_ATTR_NATIVE_NAMES]: { clientName: string; serverName: string };
  [SECPKG_ATTR_FLAGS]: { flags: number };
}

export type ContextAttribute = keyof ContextAttributeValues;

// SECPKG_FLAG_* capability bits (sspi.h).
export const SECPKG_FLAG_INTEGRITY = 0x1;
export const SECPKG_FLAG_PRIVACY = 0x2;
export const SECPKG_FLAG_CONNECTION = 0x10;
export const SECPKG_FLAG_MULTI_REQUIRED = 0x20;
export const SECPKG_FLAG_EXTENDED_ERROR = 0x200;
export const SECPKG_FLAG_IMPERSONATION = 0x400;
export const SECPKG_FLAG_ACCEPT_WIN32_NAME = 0x800;
export const SECPKG_FLAG_STREAM = 0x1000;
export const SECPKG_FLAG_NEGOTIABLE = 0x2000;
export const SECPKG_FLAG_GSS_COMPATIBLE = 0x4000;
export const SECPKG_FLAG_MUTUAL_AUTH = 0x10000;
export const SECPKG_FLAG_DELEGATION = 0x20000;
export const SECPKG_FLAG_READONLY_WITH_CHECKSUM = 0x40000;
