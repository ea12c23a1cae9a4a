// What a backend must do, in SSPI terms. lib/facade/api.ts validates arguments and owns handles; a provider only adapts.
import type { SecPkgInfo } from '../vocabulary/attributes.js';
import type { GssStatusDetail } from '../vocabulary/status.js';
import type { RenewalEvent } from './renewal.js';

import type { PackageName } from '../vocabulary/packages.js';

export type { PackageName };

/** Where an outbound credential comes from. Validated by the API before a provider sees it. */
export interface CredentialSource {
  package: PackageName;
  /** A principal to use from the credential cache (or to log on as, with `password`). */
  principal?: string;
  /** Obtain a TGT with this password. Copied into memory we zero after use. */
  password?: Buffer;
  /** Asked for the password at each logon (the first, and when a renewable TGT can be renewed no more). */
  passwordCallback?: () => Promise<Uint8Array>;
  /** A credential cache by name (FILE:, DIR:, KEYRING:, MEMORY:, KCM: ...), read for this handle only. */
  ccache?: string;
  /** A client keytab: a TGT is obtained from its key for this handle only. */
  keytab?: string;
  /** Initial-ticket options for a password or keytab logon (forwardable, renewable, lifetime). */
  logon?: { forwardable?: boolean; /** Seconds; 0: not renewable. */ renewable?: number; lifetime?: number };
  /** Told of each renewal attempt of the handle's TGT (renewal.ts). */
  onRenewal?: (event: RenewalEvent) => void;
  /** S4U2Self: the service credential that acts for `principal`. */
  impersonator?: ProviderCredential;
  /** How Negotiate is framed: our RFC 4178 framing around krb5 (default) or the GSS library's SPNEGO mechanism. */
  spnego: 'library' | 'system';
  /** With the system SPNEGO: whether it may settle on NTLM (gss-ntlmssp). Our framing never offers NTLM. */
  ntlm: boolean;
}

/** A provider's credential; the API reference-counts it so a context keeps it alive after FreeCredentialsHandle. */
export interface ProviderCredential {
  release(): void;
}

/** A provider's context state. `release()` frees whatever native state it holds. */
export interface ProviderContext {
  release(): void;
}

export interface AcquireOutcome {
  credential: ProviderCredential;
  /** When the credential expires, where the backend knows it at acquisition. */
  expiry?: Date;
  /** Why acquisition failed; initialize() with this credential returns the same failure. */
  failure?: { status: number; gss?: GssStatusDetail; detail?: string };
}

export interface InitializeRequest {
  credential: ProviderCredential;
  /** undefined on the first call; on later calls the state the provider returned. */
  context?: ProviderContext;
  targetName: string;
  /** ISC_REQ_* flags, already checked against what the provider supports. */
  contextReq: number;
  /** With ISC_REQ_DELEGATE: delegate even to targets the KDC does not mark ok-as-delegate. */
  unconstrainedDelegation?: boolean;
  /** The peer's token, if any (SECBUFFER_TOKEN). */
  token?: Buffer;
  /** Application data of SEC_CHANNEL_BINDINGS plus the addresses, as parsed by the API. */
  channelBindings?: ChannelBindings;
}

export interface ChannelBindings {
  initiatorAddrType: number;
  initiatorAddress: Buffer;
  acceptorAddrType: number;
  acceptorAddress: Buffer;
  applicationData: Buffer;
}

export interface InitializeOutcome {
  /** SEC_E_OK, SEC_I_CONTINUE_NEEDED or a SEC_E_* failure. */
  status: number;
  /** The context state to pass on the next call (absent when a first call failed: nothing to keep). */
  context?: ProviderContext;
  /** The token for the peer (may be empty). */
  token?: Buffer;
  /** ISC_RET_* flags granted so far. */
  contextAttr: number;
  expiry?: Date;
  /** On failure: what the GSS library said (or our SPNEGO layer, in the same shape). */
  gss?: GssStatusDetail;
  /** On failure: a sentence saying what went wrong, beyond the status. */
  detail?: string;
}

/** A buffer of a message call, as the API passes it: SECBUFFER_* type (with attribute bits) and the caller's bytes. */
export interface MessageBuffer {
  type: number;
  buffer: Uint8Array;
}

export interface MessageOutcome {
  status: number;
  /** The buffers after the call: views of the caller's memory, resized to what was written. */
  buffers?: MessageBuffer[];
  /** DecryptMessage/VerifySignature: the QOP the peer used. */
  qop?: number;
  gss?: GssStatusDetail;
  detail?: string;
}

export interface AttributeOutcome {
  status: number;
  value?: unknown;
  gss?: GssStatusDetail;
  detail?: string;
}

export interface Provider {
  readonly name: string;
  /** The ISC_REQ_* bits this provider can honour; any other bit gives SEC_E_UNSUPPORTED_FUNCTION. */
  readonly supportedContextReq: number;
  /**
   * Acquires (or, for the default credential, prepares) an outbound credential. Failures do not throw: like Windows
   * with a wrong password, they are reported by the first initialize() that uses the credential.
   */
  acquireCredentials(source: CredentialSource): Promise<AcquireOutcome>;
  initialize(request: InitializeRequest): Promise<InitializeOutcome>;
  /** Per-message calls: synchronous (local crypto), on an established context. */
  encryptMessage(context: ProviderContext, qop: number, buffers: MessageBuffer[]): MessageOutcome;
  decryptMessage(context: ProviderContext, buffers: MessageBuffer[]): MessageOutcome;
  makeSignature(context: ProviderContext, qop: number, buffers: MessageBuffer[]): MessageOutcome;
  verifySignature(context: ProviderContext, buffers: MessageBuffer[]): MessageOutcome;
  /** QueryCredentialsAttributes: may read a credential cache, so it runs on the pool. */
  queryCredentialsAttributes(credential: ProviderCredential, attribute: number): Promise<AttributeOutcome>;
  /** EnumerateSecurityPackages: the packages the installed mechanisms support. */
  securityPackages(): SecPkgInfo[];
  /** QueryContextAttributes: SEC_E_UNSUPPORTED_FUNCTION for an attribute the backend cannot supply. */
  queryContextAttributes(context: ProviderContext, attribute: number): AttributeOutcome;
}
