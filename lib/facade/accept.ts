// AcceptSecurityContext: the server's half, shaped like initializeSecurityContext (lib/facade/api.ts): the same handles,
// context states, per-context serialization, statuses and AbortSignal. Server contexts are ContextHandles like
// client ones: queryContextAttributes, the message calls and deleteSecurityContext take both.
import { checkDataRep, checkLegIO, checkLegOptions, type InitializeResult, type SecBuffer } from './api.js';
import { ContextHandle, ContextState, CredentialState, CredentialsHandle, contextState, credentialState, failedContext } from './handles.js';
import { endLeg, failed, readInput, runLeg } from './leg.js';
import { checkPolicy, inboundOf, isServerState, markServerContext } from './inbound.js';
import type { BindingsPolicy } from '../providers/acceptor.js';
import type { InitializeOutcome } from '../providers/provider.js';
import { currentAcceptor } from '../providers/select-acceptor.js';
import * as AF from '../vocabulary/accept-flags.js';
import * as S from '../vocabulary/status.js';

/** The largest token acceptSecurityContext reads (docs/api.md): larger ones are SEC_E_INVALID_TOKEN unread. */
export const MAX_ACCEPT_TOKEN = 64 * 1024;

export interface AcceptSecurityContextOptions {
  /** An inbound credential (acquireCredentialsHandle with SECPKG_CRED_INBOUND). Needed on the first call. */
  credential?: CredentialsHandle;
  /** Absent on the first call; the handle the previous call returned afterwards. */
  context?: ContextHandle;
  /** SECBUFFER_TOKEN with the client's token; SECBUFFER_CHANNEL_BINDINGS with the server's SEC_CHANNEL_BINDINGS. */
  input: SecBuffer[];
  /** ASC_REQ_* flags. ASC_REQ_MUTUAL_AUTH refuses clients that did not ask for mutual authentication. */
  contextReq: number;
  /** SECURITY_NATIVE_DREP (default) or SECURITY_NETWORK_DREP; Kerberos tokens do not depend on it. */
  targetDataRep?: number;
  /** As initializeSecurityContext's: a SECBUFFER_TOKEN buffer here receives the reply unless ASC_REQ_ALLOCATE_MEMORY. */
  output?: SecBuffer[];
  /**
   * The channel-bindings policy for this context (the handle's otherwise). ASC_REQ_PROXY_BINDINGS means `required`,
   * ASC_REQ_ALLOW_MISSING_BINDINGS `when-supported`.
   */
  channelBindings?: BindingsPolicy;
  /** Abandons the wait; the context is deleted when the native call finishes. */
  signal?: AbortSignal;
}

/**
 * Like InitializeResult; on failure `output` may hold a token for the client (a KRB-ERROR, or a SPNEGO reject
 * carrying it) that tells it why: send it when non-empty.
 */
export type AcceptResult = InitializeResult;

const ASC_KEYS = new Set(['credential', 'context', 'input', 'contextReq', 'targetDataRep', 'output', 'channelBindings', 'signal']);

/** The calls refused on an existing server context before any native call (docs/api.md, "Context states"). */
function refusal(ctx: ContextState): InitializeOutcome | undefined {
  const refuse = (status: number, detail: string): InitializeOutcome => ({ status, context: ctx.native, contextAttr: 0, detail });
  if (ctx.phase === 'failed') return refuse(failedContext(ctx).status, failedContext(ctx).detail);
  if (ctx.phase === 'complete') return refuse(S.SEC_E_INVALID_TOKEN, 'the context is complete: a token arrived after the exchange ended');
  return undefined;
}

/** The policy of a call: the request's bits, else the call's option, else the handle's. */
function policyOf(contextReq: number, option: BindingsPolicy | undefined, handle: BindingsPolicy): BindingsPolicy {
  if (contextReq & AF.ASC_REQ_PROXY_BINDINGS) return 'required';
  if (contextReq & AF.ASC_REQ_ALLOW_MISSING_BINDINGS) return 'when-supported';
  return option ?? handle;
}

/**
 * AcceptSecurityContext. Call first with the client's first token and an inbound credential; while the status is
 * SEC_I_CONTINUE_NEEDED, send the output token and call again with the client's next token and the context. On
 * SEC_E_OK, send the output token when non-empty (the AP-REP of mutual authentication). Runs off the event loop;
 * calls on one context are serialized. Never throws for what a client sends: every hostile token is a SEC_E status.
 */
export async function acceptSecurityContext(options: AcceptSecurityContextOptions): Promise<AcceptResult> {
  checkLegOptions(options, ASC_KEYS, 'acceptSecurityContext', 'ASC_REQ_*');
  const { contextReq } = options;
  checkDataRep(options.targetDataRep);
  const optionPolicy = checkPolicy(options.channelBindings, 'channelBindings');
  const { signal, input, output } = checkLegIO(options);

  const handle = options.context;
  let state: ContextState | undefined;
  if (handle !== undefined) {
    state = contextState(handle);
    if (!state || !isServerState(state)) return failed(S.SEC_E_INVALID_HANDLE, 'the context handle is not a live server ContextHandle (deleted, a client context, or not a context)');
  }
  let credential: CredentialState | undefined;
  if (options.credential !== undefined) {
    credential = credentialState(options.credential);
    if (!credential) return failed(S.SEC_E_INVALID_HANDLE, 'the credential handle is not a live CredentialsHandle (freed, or not a credential)', handle);
  }
  if (!state && !credential) return failed(S.SEC_E_NO_CREDENTIALS, 'the first call needs an inbound credential (acquireCredentialsHandle with SECPKG_CRED_INBOUND)');
  const cred = state?.credential ?? credential!;
  const inbound = inboundOf(cred);
  if (!inbound) return failed(S.SEC_E_NO_CREDENTIALS, 'an outbound credential cannot accept: acquire one with credentialUse SECPKG_CRED_INBOUND', handle);

  const read = readInput(input, handle, MAX_ACCEPT_TOKEN + 1);
  if ('status' in read) return read;
  const { token, channelBindings } = read;
  if (!token || token.length === 0) return failed(S.SEC_E_INVALID_TOKEN, 'acceptSecurityContext needs the client\'s token (a SECBUFFER_TOKEN input buffer)', handle);
  if (token.length > MAX_ACCEPT_TOKEN) return failed(S.SEC_E_INVALID_TOKEN, `the token is over ${MAX_ACCEPT_TOKEN} bytes: refused unread`, handle);

  if (cred.failure) {
    const f = cred.failure;
    return failed(f.status, f.detail ?? 'the credential could not be acquired', handle, f.gss);
  }
  const acceptor = currentAcceptor();
  if (cred.provider !== acceptor.provider) return failed(S.SEC_E_NO_CREDENTIALS, 'the credential is not the acceptor\'s', handle);
  // Checked before a context exists: a refused first call leaves nothing behind.
  const unsupported = contextReq & ~acceptor.supportedContextReq;
  if (unsupported) return failed(S.SEC_E_UNSUPPORTED_FUNCTION, `this acceptor cannot honour ASC_REQ bits 0x${unsupported.toString(16)}`, handle);
  if (!state) {
    state = new ContextState(acceptor.provider, cred, '');
    markServerContext(state);
  }
  const policy = policyOf(contextReq, optionPolicy, inbound.policy);
  const ctx = state;
  const existing = handle;
  const outcome = await runLeg(ctx, existing, signal, () => refusal(ctx), () => acceptor.accept({
    credential: ctx.credential.native, context: ctx.native, token: token!, contextReq, channelBindings, bindingsPolicy: policy,
  }));
  return endLeg(ctx, handle, outcome, output, {
    allocate: (contextReq & AF.ASC_REQ_ALLOCATE_MEMORY) !== 0,
    allocated: AF.ASC_RET_ALLOCATED_MEMORY,
    tokenOnFailure: true,
  });
}

/** Whether `context` is a server context (from acceptSecurityContext). */
export function isServerContext(context: ContextHandle): boolean {
  const state = contextState(context);
  return !!state && isServerState(state);
}

/**
 * The credential the client delegated (ISC_REQ_DELEGATE) on a complete server context, as a new outbound
 * CredentialsHandle: initializeSecurityContext and negotiateFetch use it to reach other services as the client (the
 * double hop). Handed over once: a second call gives undefined. Free it with freeCredentialsHandle. undefined when
 * nothing was delegated (ASC_RET_DELEGATE not set), or for a context that is not a complete server context.
 */
export function delegatedCredential(context: ContextHandle): CredentialsHandle | undefined {
  const state = contextState(context);
  if (!state || !isServerState(state) || state.phase !== 'complete' || state.busy || !state.native) return undefined;
  const taken = currentAcceptor().takeDelegated(state.native);
  if (!taken) return undefined;
  return new CredentialsHandle(new CredentialState(taken.provider, taken.credential), taken.package, taken.expiry);
}
