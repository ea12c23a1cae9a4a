// The Windows acceptor: AcceptSecurityContext itself, as sspi.ts is InitializeSecurityContextW. A handle for the
// process's own account (SSPI takes no keytab; Kerberos decrypts with the account's keys, Wine's with MIT's default
// keytab, KRB5_KTNAME), Negotiate and Kerberos are the OS's own packages (no SPNEGO machine of ours, as for the
// initiator), and the replay cache is the OS's. What this file adds is marshalling, the API's policies that SSPI
// does not apply itself (mutual authentication required, the channel-bindings policy), and the delegated credential,
// which SSPI hands over by impersonation rather than as a handle (docs/platforms.md, "The acceptor on Windows").
import { SECPKG_CRED_INBOUND, SECPKG_CRED_OUTBOUND, SECURITY_NATIVE_DREP, secur32 } from '../../ffi/secur32.js';
import * as AF from '../vocabulary/accept-flags.js';
import * as F from '../vocabulary/flags.js';
import * as S from '../vocabulary/status.js';
import { secChannelBindings } from '../vocabulary/bindings.js';
import { checkCString } from '../facade/cstring.js';
import type { Acceptor, AcceptOutcome, AcceptRequest, InboundSource } from './acceptor.js';
import { callAsync } from './pool.js';
import type { AcquireOutcome, PackageName, Provider, ProviderContext, ProviderCredential } from './provider.js';
import { currentProvider } from './select.js';
import { NativeDesc } from './sspi-buffers.js';
import { timeStamp } from './sspi-attributes.js';
import { SspiCredential, maxToken, negotiatedPackage, type Handle, type SspiHandleState } from './sspi.js';

/** An inbound handle: AcquireCredentialsHandleW(SECPKG_CRED_INBOUND), or why it could not be had. */
export class SspiInboundCredential implements ProviderCredential {
  released = false;
  constructor(readonly source: InboundSource, readonly handle: Handle | undefined, readonly failure?: { status: number; detail?: string }) {}

  release(): void {
    if (this.released || !this.handle) return;
    this.released = true;
    secur32().FreeCredentialsHandle(this.handle);
  }
}

/** A server context. The message and attribute calls are SspiProvider's, on `handle`. */
export class SspiServerContext implements SspiHandleState {
  handle?: Handle;
  complete = false;
  /** ASC_RET_* of the last leg: ASC_RET_DELEGATE says whether the client delegated. */
  contextAttr = 0;
  /** The delegated credential is handed over once. */
  delegationTaken = false;
  constructor(readonly pkg: PackageName) {}

  release(): void {
    if (this.handle) secur32().DeleteSecurityContext(this.handle);
    this.handle = undefined;
  }
}

/** Under Wine, its version (Wine's Kerberos drops channel bindings: the `required` policy cannot hold there). */
function wine(): string | undefined {
  return secur32().wine_get_version?.() as string | undefined;
}

const REFUSED_BINDINGS = 'channel bindings "required": SSPI does not report whether the client bound the context to the channel, '
  + 'so the policy cannot be confirmed (use "when-supported": Windows refuses bindings that differ; docs/platforms.md)';

export class SspiAcceptor implements Acceptor {
  readonly provider: Provider = currentProvider();
  /** SSPI honours its own flags (ASC_REQ_ALLOCATE_MEMORY is ours: we supply the output buffer). */
  readonly supportedContextReq = 0xffffffff | 0;

  async acquireInbound(source: InboundSource): Promise<AcquireOutcome> {
    // SSPI's inbound credential is the process's account: there is no keytab to name, and the replay cache is the
    // OS's. Named anyway, they are refused as the outbound GSS-only sources are (sspi.ts), at the handle's first use.
    const unsupported = source.keytab !== undefined ? 'keytab' : source.replayCache !== undefined ? 'replayCache' : undefined;
    if (unsupported) {
      const failure = { status: S.SEC_E_UNSUPPORTED_FUNCTION, detail: `${unsupported} is a GSS-API option: on Windows an inbound credential is the process's own account and the replay cache is the OS's` };
      return { credential: new SspiInboundCredential(source, undefined, failure), failure };
    }
    const principal = source.principal ? checkCString(source.principal, 'principal') : null;
    const cred: Handle = { dwLower: 0, dwUpper: 0 };
    const expiry = [0n];
    const status = (await callAsync(secur32().AcquireCredentialsHandleW, principal, source.package, SECPKG_CRED_INBOUND, null, null, null, null, cred, expiry)) | 0;
    if (status !== S.SEC_E_OK) {
      const failure = { status, detail: 'AcquireCredentialsHandleW (SECPKG_CRED_INBOUND) failed' };
      return { credential: new SspiInboundCredential(source, undefined, failure), failure };
    }
    return { credential: new SspiInboundCredential(source, cred), expiry: timeStamp(expiry[0]) };
  }

  isInbound(credential: ProviderCredential): boolean {
    return credential instanceof SspiInboundCredential;
  }

  async accept(request: AcceptRequest): Promise<AcceptOutcome> {
    const credential = request.credential as SspiInboundCredential;
    if (credential.failure || !credential.handle) return { status: credential.failure!.status, context: request.context, contextAttr: 0, detail: credential.failure?.detail };
    let state = request.context as SspiServerContext | undefined;
    const fresh = !state;
    if (!state && request.bindingsPolicy === 'required') {
      // Windows checks bindings the client sent against ours (SEC_E_BAD_BINDINGS), but accepts a client that sent
      // none, and says nothing of it afterwards; Wine drops them altogether. Refused, as Heimdal refuses it.
      return { status: S.SEC_E_BAD_BINDINGS, contextAttr: 0, detail: wine() ? `${REFUSED_BINDINGS}; Wine's Kerberos ignores them altogether` : REFUSED_BINDINGS };
    }
    state ??= new SspiServerContext(credential.source.package);
    const inputs: Array<{ type: number; bytes: Uint8Array }> = [{ type: F.SECBUFFER_TOKEN, bytes: request.token }];
    if (request.channelBindings && request.bindingsPolicy !== 'never') {
      inputs.push({ type: F.SECBUFFER_CHANNEL_BINDINGS, bytes: secChannelBindings(request.channelBindings) });
    }
    const input = new NativeDesc(inputs);
    const capacity = maxToken(credential.source.package);
    const output = new NativeDesc([{ type: F.SECBUFFER_TOKEN, bytes: new Uint8Array(0), capacity }]);
    // Our policies, not SSPI's flags: the binding bits are Digest's on Windows; ALLOCATE_MEMORY is ours to honour.
    const req = (request.contextReq & ~(AF.ASC_REQ_ALLOCATE_MEMORY | AF.ASC_REQ_PROXY_BINDINGS | AF.ASC_REQ_ALLOW_MISSING_BINDINGS)) >>> 0;
    const newCtx: Handle = state.handle ?? { dwLower: 0, dwUpper: 0 };
    const attr = [0];
    const expiry = [0n];
    try {
      let status = (await callAsync(secur32().AcceptSecurityContext, credential.handle, state.handle ?? null, input.desc, req,
        SECURITY_NATIVE_DREP, newCtx, output.desc, attr, expiry)) | 0;
      if (status === S.SEC_I_COMPLETE_NEEDED || status === S.SEC_I_COMPLETE_AND_CONTINUE) {
        // As for the initiator (sspi.ts): CompleteAuthToken here, so callers see SEC_E_OK or SEC_I_CONTINUE_NEEDED.
        const completed = secur32().CompleteAuthToken(newCtx, output.desc) | 0;
        status = completed !== S.SEC_E_OK ? completed : status === S.SEC_I_COMPLETE_NEEDED ? S.SEC_E_OK : S.SEC_I_CONTINUE_NEEDED;
        // A first leg's context SSPI made before CompleteAuthToken refused it: ours to delete, nothing holds it.
        if (completed !== S.SEC_E_OK && fresh) secur32().DeleteSecurityContext(newCtx);
      }
      if (status !== S.SEC_E_OK && status !== S.SEC_I_CONTINUE_NEEDED) {
        // With ASC_REQ_EXTENDED_ERROR Windows may leave an error token for the client (ASC_RET_EXTENDED_ERROR); a
        // buffer SSPI did not touch still claims its whole capacity and is not one.
        const out = output.read()[0];
        const token = attr[0] & AF.ASC_RET_EXTENDED_ERROR && out.bytes.length > 0 && out.bytes.length < capacity ? out.bytes : undefined;
        const outcome: AcceptOutcome = { status, contextAttr: 0, detail: 'AcceptSecurityContext failed' };
        if (token) outcome.token = token;
        if (!fresh) outcome.context = state;
        return outcome;
      }
      state.handle = newCtx;
      state.complete = status === S.SEC_E_OK;
      state.contextAttr = attr[0] >>> 0;
      const refused = this.policyRefusal(state, request);
      if (refused) {
        state.release();
        return { ...refused, context: fresh ? undefined : state };
      }
      return { status, context: state, token: output.read()[0].bytes, contextAttr: state.contextAttr, expiry: timeStamp(expiry[0]) };
    } finally {
      input.free();
      output.free();
    }
  }

  /** What the API promises beyond SSPI's own checks, on a completed leg (the same rules as the GSS acceptor's). */
  private policyRefusal(state: SspiServerContext, request: AcceptRequest): AcceptOutcome | undefined {
    if (!state.complete) return undefined;
    if (request.contextReq & AF.ASC_REQ_MUTUAL_AUTH && !(state.contextAttr & AF.ASC_RET_MUTUAL_AUTH)) {
      return { status: S.SEC_E_MUTUAL_AUTH_FAILED, contextAttr: 0, detail: 'mutual authentication is required (ASC_REQ_MUTUAL_AUTH) and the client did not ask for it' };
    }
    // Negotiate that settled on NTLM: refused as the initiator refuses it (`ntlm: false` is the only choice inbound).
    if (state.pkg === 'Negotiate' && negotiatedPackage(state) === 'NTLM') {
      return { status: S.SEC_E_UNSUPPORTED_FUNCTION, contextAttr: 0, detail: 'Negotiate settled on NTLM, which the acceptor refuses' };
    }
    return undefined;
  }

  /**
   * SSPI gives a server no credential handle for what the client delegated: the delegated TGT lives in the client's
   * logon session, reached by impersonating the context. So: ImpersonateSecurityContext, AcquireCredentialsHandleW
   * (outbound, the current, impersonated, logon session's), RevertSecurityContext, all on this thread, in one turn.
   * The handle stays bound to the client's logon session after the revert. Nothing when the client did not delegate
   * (no ASC_RET_DELEGATE) or impersonation is refused (Wine has no ImpersonateSecurityContext: never the process's
   * own credential in the client's name).
   */
  takeDelegated(context: ProviderContext): ReturnType<Acceptor['takeDelegated']> {
    const state = context as SspiServerContext;
    if (!state.complete || !state.handle || state.delegationTaken || !(state.contextAttr & AF.ASC_RET_DELEGATE)) return undefined;
    state.delegationTaken = true;
    const fn = secur32();
    if ((fn.ImpersonateSecurityContext(state.handle) | 0) !== S.SEC_E_OK) return undefined;
    const cred: Handle = { dwLower: 0, dwUpper: 0 };
    const expiry = [0n];
    let status: number;
    try {
      status = fn.AcquireCredentialsHandleW(null, state.pkg, SECPKG_CRED_OUTBOUND, null, null, null, null, cred, expiry) | 0;
    } catch {
      status = S.SEC_E_INTERNAL_ERROR;
    }
    const reverted = fn.RevertSecurityContext(state.handle) | 0;
    if (reverted !== S.SEC_E_OK) {
      // Never go on as the client: a thread left impersonating would run the rest of the process in its name.
      if (status === S.SEC_E_OK) fn.FreeCredentialsHandle(cred);
      throw new S.SecurityError(reverted, 'RevertSecurityContext failed after taking the delegated credential');
    }
    if (status !== S.SEC_E_OK) return undefined;
    const credential = new SspiCredential({ package: state.pkg, spnego: 'library', ntlm: false }, cred);
    return { credential, provider: this.provider, expiry: timeStamp(expiry[0]), package: state.pkg };
  }
}
