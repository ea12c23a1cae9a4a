// The Windows provider: SSPI itself, so a near pass-through. Statuses are already SEC_E_*; what this file does is
// marshalling (SecBufferDesc in native memory, UTF-16 names, TimeStamps), the credential sources SSPI has (the
// logged-on user, or user/domain/password), and the same handle and pool discipline as the GSS provider.
import koffi from 'koffi';
import {
  SECPKG_CRED_OUTBOUND, SECURITY_NATIVE_DREP, SEC_WINNT_AUTH_IDENTITY_UNICODE, SEC_WINNT_AUTH_IDENTITY_W, SecPkgInfoW, secur32,
} from '../../ffi/secur32.js';
import * as A from '../vocabulary/attributes.js';
import * as F from '../vocabulary/flags.js';
import * as S from '../vocabulary/status.js';
import { secChannelBindings } from '../vocabulary/bindings.js';
import {
  CONTEXT_ATTRIBUTE_BYTES, decodeContextAttribute, decodesContextAttribute, keyInfoEncryptAlgorithm, packageInfo, takeString, timeStamp,
  type FreeContextBuffer,
} from './sspi-attributes.js';
import { checkCString } from '../facade/cstring.js';
import { callAsync } from './pool.js';
import { InPlaceDesc, NativeDesc } from './sspi-buffers.js';
import { utf8ToUtf16z } from './utf16.js';
import type {
  AcquireOutcome, AttributeOutcome, CredentialSource, InitializeOutcome, InitializeRequest, MessageBuffer, MessageOutcome,
  Provider, ProviderContext, ProviderCredential,
} from './provider.js';

export interface Handle {
  dwLower: bigint | number;
  dwUpper: bigint | number;
}

/** A NUL-terminated UTF-16 copy (the API has refused a NUL inside already; this is the same check at the boundary). */
const utf16 = (s: string, parameter: string) => Buffer.from(`${checkCString(s, parameter)}\0`, 'utf16le');

export class SspiCredential implements ProviderCredential {
  released = false;
  constructor(readonly source: CredentialSource, readonly handle: Handle | undefined, readonly failure?: { status: number; detail?: string }) {}

  release(): void {
    if (this.released || !this.handle) return;
    this.released = true;
    secur32().FreeCredentialsHandle(this.handle);
  }
}

/** What the calls every context shares (messages, attributes) need of a client or server context. */
export interface SspiHandleState extends ProviderContext {
  handle?: Handle;
  complete: boolean;
}

class SspiContext implements SspiHandleState {
  handle?: Handle;
  complete = false;
  /** The first call's target, passed again on later legs (Windows ignores it there; Wine needs it). */
  constructor(readonly credential: SspiCredential, readonly targetName: string) {}

  release(): void {
    if (this.handle) secur32().DeleteSecurityContext(this.handle);
    this.handle = undefined;
  }
}

/**
 * SSPI names a Kerberos service `svc/host` (or `svc/host@REALM`); the GSS form `svc@host`, which the GSS provider
 * takes as a host-based service, is turned into `svc/host` so the same target name works on every OS. Anything else
 * (a UPN, an SPN with a port) goes to SSPI as given.
 */
function sspiTargetName(target: string): string {
  return /^[^/@\s]+@[^/@\s]+$/.test(target) ? target.replace('@', '/') : target;
}

/** The package's cbMaxToken: the size of the output token buffer we supply (SSPI cannot allocate it under Wine). */
export function maxToken(pkg: string): number {
  const out: unknown[] = [null];
  if (secur32().QuerySecurityPackageInfoW(pkg, out) !== S.SEC_E_OK || !out[0]) return 48_000;
  try {
    return packageInfo(out[0]).maxToken;
  } finally {
    secur32().FreeContextBuffer(out[0]);
  }
}

export const freeContextBuffer: FreeContextBuffer = (ptr) => secur32().FreeContextBuffer(ptr);

/** The package Negotiate is using for the context (NEGOTIATION_INFO), or undefined when SSPI does not say. */
export function negotiatedPackage(state: { handle?: Handle }): string | undefined {
  const out = koffi.alloc('uint8_t', CONTEXT_ATTRIBUTE_BYTES);
  try {
    if ((secur32().QueryContextAttributesW(state.handle, A.SECPKG_ATTR_NEGOTIATION_INFO, out) | 0) !== S.SEC_E_OK) return undefined;
    return (decodeContextAttribute(A.SECPKG_ATTR_NEGOTIATION_INFO, out, freeContextBuffer) as { packageInfo: A.SecPkgInfo }).packageInfo.name;
  } finally {
    koffi.free(out);
  }
}

/** The session key's enctype: SecPkgContext_KeyInfoW.EncryptAlgorithm (Kerberos puts the etype there). */
function keyType(state: { handle?: Handle }): number {
  const out = koffi.alloc('uint8_t', CONTEXT_ATTRIBUTE_BYTES);
  try {
    if ((secur32().QueryContextAttributesW(state.handle, A.SECPKG_ATTR_KEY_INFO, out) | 0) !== S.SEC_E_OK) return 0;
    return keyInfoEncryptAlgorithm(out, freeContextBuffer);
  } finally {
    koffi.free(out);
  }
}

export class SspiProvider implements Provider {
  readonly name = 'sspi';
  /** SSPI honours its own flags; the API's check passes them through. */
  readonly supportedContextReq = 0xffffffff | 0;

  async acquireCredentials(source: CredentialSource): Promise<AcquireOutcome> {
    if (source.passwordCallback && !source.password) {
      // Asked once: the Kerberos SSP keeps what it was given and gets new tickets itself (docs/platforms.md).
      const given = await source.passwordCallback().catch(() => undefined);
      if (!(given instanceof Uint8Array)) {
        const failure = { status: S.SEC_E_NO_CREDENTIALS, detail: 'the password callback did not give a Uint8Array' };
        return { credential: new SspiCredential(source, undefined, failure), failure };
      }
      const password = Buffer.from(given);
      given.fill(0);
      source = { ...source, password, logon: undefined };
    }
    const unsupported = source.ccache ? 'ccache' : source.keytab ? 'keytab' : source.impersonator ? 'impersonator' : source.logon ? 'logon options' : undefined;
    if (unsupported) {
      const failure = { status: S.SEC_E_UNSUPPORTED_FUNCTION, detail: `${unsupported} is a GSS-API credential source; SSPI has the logged-on user or user/domain/password` };
      return { credential: new SspiCredential(source, undefined, failure), failure };
    }
    // Names and the password reach secur32 as NUL-terminated UTF-16: checked as the API checks them.
    if (source.principal) checkCString(source.principal, 'principal');
    if (source.password) checkCString(source.password, 'password');
    let identity: unknown = null;
    const keep: Buffer[] = [];
    if (source.principal && source.password) {
      const [user, domain = ''] = source.principal.split('@');
      // From the caller's bytes straight to UTF-16: no JavaScript string of the password, which could not be zeroed.
      const password = utf8ToUtf16z(source.password);
      keep.push(utf16(user, 'principal'), utf16(domain, 'principal'), password.buffer);
      identity = {
        User: keep[0], UserLength: user.length, Domain: keep[1], DomainLength: domain.length,
        Password: password.buffer, PasswordLength: password.units, Flags: SEC_WINNT_AUTH_IDENTITY_UNICODE,
      };
    }
    const cred: Handle = { dwLower: 0, dwUpper: 0 };
    const expiry = [0n];
    const authData = identity ? koffi.alloc(SEC_WINNT_AUTH_IDENTITY_W, 1) : null;
    try {
      if (authData) koffi.encode(authData, SEC_WINNT_AUTH_IDENTITY_W, identity);
      const principal = source.principal && !source.password ? source.principal : null;
      const status = await callAsync(secur32().AcquireCredentialsHandleW, principal, source.package, SECPKG_CRED_OUTBOUND, null, authData, null, null, cred, expiry);
      if (status !== S.SEC_E_OK) {
        const failure = { status: status | 0, detail: 'AcquireCredentialsHandleW failed' };
        return { credential: new SspiCredential(source, undefined, failure), failure };
      }
      return { credential: new SspiCredential(source, cred), expiry: timeStamp(expiry[0]) };
    } finally {
      if (authData) koffi.free(authData);
      for (const b of keep) b.fill(0);
      source.password?.fill(0);
    }
  }

  async initialize(request: InitializeRequest): Promise<InitializeOutcome> {
    const credential = request.credential as SspiCredential;
    if (credential.failure || !credential.handle) return { status: credential.failure!.status, contextAttr: 0, detail: credential.failure?.detail };
    if (request.unconstrainedDelegation && request.contextReq & F.ISC_REQ_DELEGATE) {
      // SSPI's Kerberos forwards the TGT only where the KDC set ok-as-delegate (the account is trusted for
      // delegation); no call can override that, so the choice is refused rather than silently narrowed.
      return { status: S.SEC_E_UNSUPPORTED_FUNCTION, contextAttr: 0, detail: 'delegation "unconstrained": Windows delegates only to targets the KDC marks ok-as-delegate' };
    }
    checkCString(request.targetName, 'targetName');
    let state = request.context as SspiContext | undefined;
    // A re-authentication (a call without a token once complete) is a new first leg in place, as on GSS: Wine's
    // Kerberos takes the call as one leg too many (SEC_E_INTERNAL_ERROR), and a new leg is what Windows does too.
    const reauth = state?.complete === true && !request.token;
    if (reauth) {
      state!.release();
      state = undefined;
    }
    const fresh = !state;
    state ??= new SspiContext(credential, sspiTargetName(request.targetName));
    const inputs: Array<{ type: number; bytes: Uint8Array }> = [];
    if (request.token) inputs.push({ type: F.SECBUFFER_TOKEN, bytes: request.token });
    if (request.channelBindings) inputs.push({ type: F.SECBUFFER_CHANNEL_BINDINGS, bytes: secChannelBindings(request.channelBindings) });
    const input = inputs.length ? new NativeDesc(inputs) : undefined;
    const output = new NativeDesc([{ type: F.SECBUFFER_TOKEN, bytes: new Uint8Array(0), capacity: maxToken(credential.source.package) }]);
    // We supply the output buffer (Wine cannot allocate it), so ISC_REQ_ALLOCATE_MEMORY is ours to honour.
    const req = (request.contextReq & ~F.ISC_REQ_ALLOCATE_MEMORY) >>> 0;
    const newCtx: Handle = state.handle ?? { dwLower: 0, dwUpper: 0 };
    const attr = [0];
    const expiry = [0n];
    try {
      let status = (await callAsync(secur32().InitializeSecurityContextW, credential.handle, state.handle ?? null, state.targetName,
        req, 0, SECURITY_NATIVE_DREP, input?.desc ?? null, 0, newCtx, output.desc, attr, expiry)) | 0;
      if (status === S.SEC_I_COMPLETE_NEEDED || status === S.SEC_I_COMPLETE_AND_CONTINUE) {
        // The package wants CompleteAuthToken on the output before it is sent: done here, so the API's
        // completeAuthToken stays the no-op it is on GSS and callers see SEC_E_OK or SEC_I_CONTINUE_NEEDED.
        const completed = secur32().CompleteAuthToken(newCtx, output.desc) | 0;
        status = completed !== S.SEC_E_OK ? completed : status === S.SEC_I_COMPLETE_NEEDED ? S.SEC_E_OK : S.SEC_I_CONTINUE_NEEDED;
      }
      if (status !== S.SEC_E_OK && status !== S.SEC_I_CONTINUE_NEEDED) {
        if (fresh && !state.handle) return { status, contextAttr: 0, detail: 'InitializeSecurityContextW failed' };
        return { status, context: state, contextAttr: 0, detail: 'InitializeSecurityContextW failed' };
      }
      state.handle = newCtx;
      state.complete = status === S.SEC_E_OK;
      // `ntlm: false` (the default) is enforced on what Negotiate settled on: an NTLM context never gets a token out.
      // (SEC_WINNT_AUTH_IDENTITY_EXW's package list would keep NTLM out of the offer, but Wine's secur32 misreads the
      // EX form and crashes; this check holds on both.)
      if (credential.source.package === 'Negotiate' && !credential.source.ntlm && negotiatedPackage(state) === 'NTLM') {
        state.release();
        return { status: S.SEC_E_UNSUPPORTED_FUNCTION, contextAttr: 0, detail: 'Negotiate settled on NTLM, which is refused (ntlm: false)' };
      }
      const contextAttr = (attr[0] | (reauth ? F.ISC_RET_REAUTHENTICATION : 0)) >>> 0;
      return { status, context: state, token: output.read()[0].bytes, contextAttr, expiry: timeStamp(expiry[0]) };
    } finally {
      input?.free();
      output.free();
    }
  }

  private message(name: 'EncryptMessage' | 'MakeSignature' | 'DecryptMessage' | 'VerifySignature', context: ProviderContext, buffers: MessageBuffer[], qop?: number): MessageOutcome {
    const state = context as SspiHandleState;
    if (!state.complete || !state.handle) return { status: S.SEC_E_INVALID_HANDLE, detail: 'the context is not established' };
    const desc = new InPlaceDesc(buffers);
    try {
      const outQop = [0];
      const status = (qop === undefined
        ? secur32()[name](state.handle, desc.desc, 0, outQop)
        : secur32()[name](state.handle, qop >>> 0, desc.desc, 0)) as number;
      if ((status | 0) !== S.SEC_E_OK) return { status: status | 0 };
      // Signed, as SECQOP_WRAP_NO_ENCRYPT is (0x80000001 | 0): koffi reads the ULONG unsigned.
      return { status: S.SEC_E_OK, buffers: desc.read(), qop: qop === undefined ? outQop[0] | 0 : undefined };
    } finally {
      desc.free();
    }
  }

  encryptMessage(context: ProviderContext, qop: number, buffers: MessageBuffer[]): MessageOutcome {
    return this.message('EncryptMessage', context, buffers, qop);
  }

  decryptMessage(context: ProviderContext, buffers: MessageBuffer[]): MessageOutcome {
    return this.message('DecryptMessage', context, buffers);
  }

  makeSignature(context: ProviderContext, qop: number, buffers: MessageBuffer[]): MessageOutcome {
    return this.message('MakeSignature', context, buffers, qop);
  }

  verifySignature(context: ProviderContext, buffers: MessageBuffer[]): MessageOutcome {
    return this.message('VerifySignature', context, buffers);
  }

  async queryCredentialsAttributes(credential: ProviderCredential, attribute: number): Promise<AttributeOutcome> {
    const c = credential as SspiCredential;
    if (c.failure || !c.handle) return { status: c.failure?.status ?? S.SEC_E_INVALID_HANDLE, detail: c.failure?.detail };
    if (attribute !== A.SECPKG_CRED_ATTR_NAMES) return { status: S.SEC_E_UNSUPPORTED_FUNCTION, detail: `credential attribute ${attribute}` };
    const out = koffi.alloc('void *', 1);
    try {
      const status = secur32().QueryCredentialsAttributesW(c.handle, attribute, out) | 0;
      if (status !== S.SEC_E_OK) return { status };
      return { status: S.SEC_E_OK, value: { userName: takeString(koffi.decode(out, 'void *'), freeContextBuffer) } };
    } finally {
      koffi.free(out);
    }
  }

  securityPackages(): A.SecPkgInfo[] {
    const count = [0];
    const out: unknown[] = [null];
    if ((secur32().EnumerateSecurityPackagesW(count, out) | 0) !== S.SEC_E_OK || !out[0]) return [];
    try {
      const size = koffi.sizeof(SecPkgInfoW);
      return Array.from({ length: count[0] }, (_, i) => packageInfo(out[0], i * size))
        .filter((p) => p.name === 'Negotiate' || p.name === 'Kerberos' || p.name === 'NTLM');
    } finally {
      secur32().FreeContextBuffer(out[0]);
    }
  }

  queryContextAttributes(context: ProviderContext, attribute: number): AttributeOutcome {
    const state = context as SspiHandleState;
    if (!state.handle) return { status: S.SEC_E_INVALID_HANDLE };
    if (!decodesContextAttribute(attribute)) return { status: S.SEC_E_UNSUPPORTED_FUNCTION, detail: `attribute ${attribute} is not marshalled by the SSPI provider` };
    const out = koffi.alloc('uint8_t', CONTEXT_ATTRIBUTE_BYTES);
    try {
      koffi.encode(out, koffi.array('uint8_t', CONTEXT_ATTRIBUTE_BYTES), new Array(CONTEXT_ATTRIBUTE_BYTES).fill(0));
      const status = secur32().QueryContextAttributesW(state.handle, attribute, out) | 0;
      if (status !== S.SEC_E_OK) return { status };
      return { status, value: decodeContextAttribute(attribute, out, freeContextBuffer, () => keyType(state)) };
    } finally {
      koffi.free(out);
    }
  }

  /** Under Wine (whose SSPI deviates from Windows in documented ways), its version; undefined on Windows. */
  static wineVersion(): string | undefined {
    return secur32().wine_get_version?.() as string | undefined;
  }
}
