// The SSPI-shaped API: argument checks (TypeError for programmer errors), provider choice, per-context
// serialization and handle lifetimes. SSPI-level failures are statuses in the result, never exceptions.
import { checkCString } from './cstring.js';
import * as F from '../vocabulary/flags.js';
import * as S from '../vocabulary/status.js';
import { SecurityError, type GssStatusDetail } from '../vocabulary/status.js';
import { abortable, endLeg, failed, readInput, runLeg } from './leg.js';
import {
  ContextHandle,
  ContextState,
  CredentialState,
  CredentialsHandle,
  contextState,
  credentialState,
  deleteContextState,
  failedContext,
  freeCredentialState,
} from './handles.js';
import { currentProvider } from '../providers/select.js';
import { acquireInbound, inboundOf, isServerState, wantsInbound, type InboundCredentialsOptions } from './inbound.js';
import type { CredentialSource, InitializeOutcome, PackageName } from '../providers/provider.js';
import type { RenewalEvent } from '../providers/renewal.js';

export { ContextHandle, CredentialsHandle };

/** A security buffer: a type (SECBUFFER_*) and its bytes. */
export interface SecBuffer {
  type: number;
  buffer: Uint8Array;
}

export interface AcquireCredentialsOptions {
  /** `Negotiate` (SPNEGO, the default) or `Kerberos` (raw krb5 tokens). */
  package?: PackageName;
  /** Outbound (client) credentials; SECPKG_CRED_INBOUND takes InboundCredentialsOptions (lib/facade/inbound.ts). */
  use?: 'outbound';
  credentialUse?: number | 'outbound';
  /** The client principal, e.g. `alice@EXAMPLE.COM`: picked from the credential cache, or logged on with `password`. */
  principal?: string;
  /**
   * Log on with this password (needs `principal`). Not kept after the acquisition; Buffers you pass stay yours.
   * A function is asked for the password at each logon (the first, and whenever a renewable TGT can be renewed no
   * more); the bytes it returns are copied and zeroed at once, so the handle lasts without keeping the password.
   */
  password?: string | Uint8Array | (() => Promise<Uint8Array>);
  /** A credential cache by name (`FILE:/path`, `DIR:`, `KEYRING:`, `MEMORY:`, `KCM:`), for this handle only. */
  ccache?: string;
  /** A client keytab (`/path` or `FILE:/path`): a TGT is obtained from it for this handle only. */
  keytab?: string;
  /**
   * S4U2Self (protocol transition): this service credential obtains a ticket as `principal`, who need not log on.
   * The result authenticates to the service itself; reaching other services needs constrained delegation at the KDC.
   */
  impersonator?: CredentialsHandle;
  /** How Negotiate is framed: `library` (our RFC 4178 framing over krb5, exact error codes) or `system`. */
  spnego?: 'library' | 'system';
  /**
   * Let Negotiate settle on NTLM (through gss-ntlmssp) when Kerberos cannot be used. Off by default, which is the
   * policy curl spells `!ntlm`: NTLM is neither offered nor accepted. `true` needs the system SPNEGO (our framing
   * offers Kerberos only) and selects it when `spnego` is not given.
   */
  ntlm?: boolean;
  /**
   * Initial-ticket options for a `password` or `keytab` logon, as kinit's -f/-F, -r and -l: forwardable (needed
   * for delegation), renewable for this many seconds (`false`: not renewable), lifetime in seconds. Unset ones
   * follow krb5.conf. The KDC may grant less than asked.
   */
  forwardable?: boolean;
  renewable?: number | false;
  lifetime?: number;
  /** Abandons the wait (rejecting with the signal's reason); the native call finishes on its thread, then is freed. */
  signal?: AbortSignal;
  /**
   * Called after each attempt to renew the handle's TGT (a keytab handle gets a new one at half its lifetime):
   * the outcome, the SEC_E status, timing and the TGT's times; never a secret. docs/service-identity.md.
   */
  onRenewal?: (event: RenewalEvent) => void;
}

const ACQUIRE_KEYS = new Set(['package', 'use', 'credentialUse', 'principal', 'password', 'ccache', 'keytab', 'impersonator', 'spnego', 'ntlm', 'forwardable', 'renewable', 'lifetime', 'signal', 'onRenewal']);

export function checkSignal(signal: unknown): AbortSignal | undefined {
  if (signal === undefined) return undefined;
  if (!(signal instanceof AbortSignal)) throw new TypeError('signal must be an AbortSignal');
  return signal;
}

export function checkOptions(options: object, allowed: Set<string>, fn: string): void {
  for (const key of Object.keys(options)) {
    if (!allowed.has(key)) throw new TypeError(`${fn}: unknown option "${key}"`);
  }
}

/** An optional non-empty string that becomes a C string (so holds no NUL). */
function optionalString(value: unknown, what: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0) throw new TypeError(`${what} must be a non-empty string`);
  return checkCString(value, what);
}

function logonOptions(options: AcquireCredentialsOptions): CredentialSource['logon'] {
  const { forwardable, renewable, lifetime } = options;
  if (forwardable !== undefined && typeof forwardable !== 'boolean') throw new TypeError('forwardable must be a boolean');
  for (const [key, v] of [['renewable', renewable], ['lifetime', lifetime]] as const) {
    if (v === undefined || (key === 'renewable' && v === false)) continue;
    if (!Number.isSafeInteger(v) || (v as number) <= 0 || (v as number) > 0x7fffffff) {
      throw new TypeError(`${key} must be a positive number of seconds${key === 'renewable' ? ' or false' : ''}`);
    }
  }
  if (forwardable === undefined && renewable === undefined && lifetime === undefined) return undefined;
  return { forwardable, renewable: renewable === false ? 0 : renewable, lifetime };
}

/**
 * AcquireCredentialsHandle (outbound). Resolves to a handle; a credential that cannot be obtained (no ticket, a
 * wrong password, no KDC) is reported by the first initializeSecurityContext that uses it, as on Windows.
 */
export async function acquireCredentialsHandle(options: AcquireCredentialsOptions | InboundCredentialsOptions = {}): Promise<CredentialsHandle> {
  if (typeof options !== 'object' || options === null) throw new TypeError('acquireCredentialsHandle: options must be an object');
  if (wantsInbound(options)) return acquireInbound(options as InboundCredentialsOptions);
  return acquireOutbound(options as AcquireCredentialsOptions);
}

async function acquireOutbound(options: AcquireCredentialsOptions): Promise<CredentialsHandle> {
  checkOptions(options, ACQUIRE_KEYS, 'acquireCredentialsHandle');
  const pkg = options.package ?? 'Negotiate';
  if (pkg !== 'Negotiate' && pkg !== 'Kerberos') throw new TypeError('package must be "Negotiate" or "Kerberos"');
  if (options.use !== undefined && options.use !== 'outbound') throw new TypeError('use must be "outbound"');
  if (options.ntlm !== undefined && typeof options.ntlm !== 'boolean') throw new TypeError('ntlm must be a boolean');
  const ntlm = options.ntlm ?? false;
  const spnego = options.spnego ?? (ntlm ? 'system' : 'library');
  if (spnego !== 'library' && spnego !== 'system') throw new TypeError('spnego must be "library" or "system"');
  if (ntlm && (spnego !== 'system' || pkg !== 'Negotiate')) throw new TypeError('ntlm: true needs the Negotiate package with spnego: "system"');
  const principal = optionalString(options.principal, 'principal');
  let password: Buffer | undefined;
  let passwordCallback: CredentialSource['passwordCallback'];
  if (typeof options.password === 'function') {
    if (!principal) throw new TypeError('a password needs a principal');
    passwordCallback = options.password;
  } else if (options.password !== undefined) {
    if (typeof options.password === 'string') password = Buffer.from(options.password, 'utf8');
    else if (options.password instanceof Uint8Array) password = Buffer.from(options.password);
    else throw new TypeError('password must be a string or a Uint8Array');
    // krb5 and GSS take the password as a C string; the check reads our copy, which is zeroed on refusal.
    try {
      checkCString(password, 'password');
    } catch (err) {
      password.fill(0);
      throw err;
    }
    if (!principal) throw new TypeError('a password needs a principal');
  }
  const ccache = optionalString(options.ccache, 'ccache');
  const keytab = optionalString(options.keytab, 'keytab');
  if ((password || passwordCallback) && keytab) throw new TypeError('a logon takes a password or a keytab, not both');
  // A password callback's logons are krb5's own, into the handle's cache, where the TGT can be renewed.
  const logon = logonOptions(options) ?? (passwordCallback ? {} : undefined);
  if (logon && !password && !passwordCallback && !keytab) throw new TypeError('forwardable, renewable and lifetime apply to a password or keytab logon');
  if (logon && keytab && !principal) throw new TypeError('a keytab logon with options needs its principal');
  let impersonator: CredentialState | undefined;
  if (options.impersonator !== undefined) {
    impersonator = credentialState(options.impersonator);
    if (!impersonator) throw new TypeError('impersonator must be a live CredentialsHandle');
    if (!principal || password || passwordCallback || ccache || keytab) throw new TypeError('impersonation takes a principal and nothing else to log on with');
  }

  if (options.onRenewal !== undefined && typeof options.onRenewal !== 'function') throw new TypeError('onRenewal must be a function');
  const signal = checkSignal(options.signal);
  signal?.throwIfAborted();
  const provider = currentProvider();
  // The service credential stays alive while the native S4U call uses it, even if its handle is freed meanwhile.
  impersonator?.retain();
  const work = provider.acquireCredentials({ package: pkg, principal, password, passwordCallback, ccache, keytab, spnego, ntlm, logon, impersonator: impersonator?.native, onRenewal: options.onRenewal });
  void work.finally(() => impersonator?.release()).catch(() => undefined);
  const { credential, expiry, failure } = await abortable(
    work,
    signal,
    (late) => late.credential.release(),
  );
  const state = new CredentialState(provider, credential);
  if (failure) state.failure = failure;
  return new CredentialsHandle(state, pkg, expiry);
}

/** FreeCredentialsHandle. Contexts made with it keep working; SEC_E_INVALID_HANDLE when already freed. */
export function freeCredentialsHandle(credential: CredentialsHandle): number {
  if (!(credential instanceof CredentialsHandle)) return S.SEC_E_INVALID_HANDLE;
  return freeCredentialState(credential) ? S.SEC_E_OK : S.SEC_E_INVALID_HANDLE;
}

export interface InitializeSecurityContextOptions {
  /** Outbound credentials from acquireCredentialsHandle. Needed on the first call; later calls use the context's. */
  credential?: CredentialsHandle;
  /** Absent on the first call; the handle the previous call returned afterwards. */
  context?: ContextHandle;
  /** The SPN: `HTTP/web.example.com`, `HTTP/web.example.com@REALM` or `HTTP@web.example.com`. */
  targetName?: string;
  /** ISC_REQ_* flags. */
  contextReq: number;
  /** Must be 0 (kept so that ported code can pass it). */
  reserved1?: number;
  /** SECURITY_NATIVE_DREP (default) or SECURITY_NETWORK_DREP; Kerberos tokens do not depend on it. */
  targetDataRep?: number;
  /** SECBUFFER_TOKEN with the peer's token; SECBUFFER_CHANNEL_BINDINGS with a SEC_CHANNEL_BINDINGS structure. */
  input?: SecBuffer[];
  /** Must be 0. */
  reserved2?: number;
  /**
   * What ISC_REQ_DELEGATE means. `policy` (default, Windows' meaning): delegate only to targets the KDC marks
   * ok-as-delegate. `unconstrained`: forward the TGT to any target (an explicit, riskier choice).
   */
  delegation?: 'policy' | 'unconstrained';
  /**
   * Output buffers. Without ISC_REQ_ALLOCATE_MEMORY, a SECBUFFER_TOKEN buffer here receives the token (too small:
   * SEC_E_INSUFFICIENT_MEMORY). Omitted, or with ISC_REQ_ALLOCATE_MEMORY, the token comes in a new Buffer.
   */
  output?: SecBuffer[];
  /**
   * A deadline or cancellation (e.g. `AbortSignal.timeout(5000)`): the promise rejects with the signal's reason on
   * time. The native call cannot be interrupted: it finishes on its pool thread, and its context is then deleted
   * (an aborted call leaves the context unusable: the handle reads as freed).
   */
  signal?: AbortSignal;
}

export interface InitializeResult {
  /** SEC_E_OK, SEC_I_CONTINUE_NEEDED, or a SEC_E_* failure. */
  status: number;
  /** The status's symbolic name, e.g. `SEC_I_CONTINUE_NEEDED`. */
  statusName: string;
  /** The context: pass it to the next call, delete it when done. Absent when a first call failed. */
  context?: ContextHandle;
  /**
   * SECBUFFER_TOKEN for the peer (send it when non-empty, even with SEC_E_OK). `.buffer` is the token; util.inspect
   * and JSON.stringify show each buffer's type and size only.
   */
  output: SecBuffer[];
  /** ISC_RET_* flags; check the security ones only after SEC_E_OK. */
  contextAttr: number;
  /** When the context expires. */
  expiry?: Date;
  /** On failure: the status as an error, with the GSS major/minor and their texts. */
  error?: SecurityError;
  /** On failure, from a GSS backend: what the library said. */
  gss?: GssStatusDetail;
}

const ISC_KEYS = new Set(['credential', 'context', 'targetName', 'contextReq', 'reserved1', 'targetDataRep', 'input', 'reserved2', 'output', 'delegation', 'signal']);

export function checkBuffers(buffers: unknown, what: string): SecBuffer[] | undefined {
  if (buffers === undefined) return undefined;
  if (!Array.isArray(buffers)) throw new TypeError(`${what} must be an array of { type, buffer }`);
  for (const b of buffers) {
    if (typeof b !== 'object' || b === null || !Number.isInteger(b.type) || !(b.buffer instanceof Uint8Array)) {
      throw new TypeError(`${what}: each SecBuffer needs an integer type and a Uint8Array buffer`);
    }
  }
  return buffers as SecBuffer[];
}

/** The checks a leg opens with: `options` an object of known keys, `contextReq` a 32-bit set of `flags` (ISC_REQ_*). */
export function checkLegOptions(options: unknown, allowed: Set<string>, fn: string, flags: string): void {
  if (typeof options !== 'object' || options === null) throw new TypeError(`${fn}: options must be an object`);
  checkOptions(options, allowed, fn);
  const { contextReq } = options as { contextReq?: unknown };
  if (!Number.isInteger(contextReq) || (contextReq as number) < 0 || (contextReq as number) > 0xffffffff) {
    throw new TypeError(`contextReq must be an unsigned 32-bit integer of ${flags} flags`);
  }
}

export function checkDataRep(targetDataRep: number | undefined): void {
  const rep = targetDataRep ?? F.SECURITY_NATIVE_DREP;
  if (rep !== F.SECURITY_NATIVE_DREP && rep !== F.SECURITY_NETWORK_DREP) {
    throw new TypeError('targetDataRep must be SECURITY_NATIVE_DREP or SECURITY_NETWORK_DREP');
  }
}

interface LegIO {
  signal?: unknown;
  input?: unknown;
  output?: unknown;
  credential?: unknown;
  context?: unknown;
}

/** A leg's signal (already aborted: thrown), buffers and handles checked. */
export function checkLegIO(options: LegIO): { signal?: AbortSignal; input?: SecBuffer[]; output?: SecBuffer[] } {
  const signal = checkSignal(options.signal);
  signal?.throwIfAborted();
  const input = checkBuffers(options.input, 'input');
  const output = checkBuffers(options.output, 'output');
  checkHandle('credential', options.credential, CredentialsHandle);
  checkHandle('context', options.context, ContextHandle);
  return { signal, input, output };
}

function checkHandle(name: string, handle: unknown, cls: { name: string }): void {
  if (handle !== undefined && (typeof handle !== 'object' || handle === null)) throw new TypeError(`${name} must be a ${cls.name}`);
}

/** Names of the ISC_REQ_* bits in `bits`, for messages. */
function reqNames(bits: number): string {
  return Object.entries(F)
    .filter(([k, v]) => k.startsWith('ISC_REQ_') && typeof v === 'number' && (bits & v) === v && v !== 0)
    .map(([k]) => k)
    .join(', ');
}

/**
 * InitializeSecurityContext. Call first without `context`; while the status is SEC_I_CONTINUE_NEEDED, send the
 * output token and call again with the peer's reply in a SECBUFFER_TOKEN input. Runs off the event loop; calls on
 * one context are serialized.
 */
export async function initializeSecurityContext(options: InitializeSecurityContextOptions): Promise<InitializeResult> {
  checkLegOptions(options, ISC_KEYS, 'initializeSecurityContext', 'ISC_REQ_*');
  const { contextReq } = options;
  if ((options.reserved1 ?? 0) !== 0) throw new TypeError('reserved1 must be 0');
  if ((options.reserved2 ?? 0) !== 0) throw new TypeError('reserved2 must be 0');
  checkDataRep(options.targetDataRep);
  if (options.targetName !== undefined && typeof options.targetName !== 'string') throw new TypeError('targetName must be a string');
  if (options.targetName !== undefined) checkCString(options.targetName, 'targetName');
  if (options.delegation !== undefined && options.delegation !== 'policy' && options.delegation !== 'unconstrained') {
    throw new TypeError('delegation must be "policy" or "unconstrained"');
  }
  const { signal, input, output } = checkLegIO(options);

  // Handles: a freed, foreign or wrong-kind handle is an SSPI failure, not a crash.
  const handle = options.context;
  let state: ContextState | undefined;
  if (handle !== undefined) {
    state = contextState(handle);
    if (!state) return failed(S.SEC_E_INVALID_HANDLE, 'the context handle is not a live ContextHandle (deleted, or not a context)');
    if (isServerState(state)) return failed(S.SEC_E_INVALID_HANDLE, 'a server context (from acceptSecurityContext) cannot initialize', handle);
  }
  let credential: CredentialState | undefined;
  if (options.credential !== undefined) {
    credential = credentialState(options.credential);
    if (!credential) return failed(S.SEC_E_INVALID_HANDLE, 'the credential handle is not a live CredentialsHandle (freed, or not a credential)', handle);
    if (inboundOf(credential)) return failed(S.SEC_E_NO_CREDENTIALS, 'an inbound (SECPKG_CRED_INBOUND) credential cannot initialize: acquire an outbound one', handle);
  }
  if (!state && !credential) return failed(S.SEC_E_NO_CREDENTIALS, 'the first call needs a credential from acquireCredentialsHandle');
  const provider = (state ?? credential)!.provider;

  const unsupported = contextReq & ~provider.supportedContextReq;
  if (unsupported) return failed(S.SEC_E_UNSUPPORTED_FUNCTION, `this package cannot honour ${reqNames(unsupported) || 'these flags'}`, handle);
  if (!state && !options.targetName) return failed(S.SEC_E_TARGET_UNKNOWN, 'the first call needs a targetName (an SPN)');

  const read = readInput(input, handle);
  if ('status' in read) return read;
  const { token, channelBindings } = read;

  if (!state) {
    state = new ContextState(provider, credential!, options.targetName!);
    if (credential!.failure) {
      state.release();
      const f = credential!.failure;
      return failed(f.status, f.detail ?? 'the credential could not be acquired', undefined, f.gss);
    }
  }
  const ctx = state;
  const existing = handle;
  const outcome = await runLeg(ctx, existing, signal, () => refusal(ctx, token !== undefined), () => provider.initialize({
    credential: ctx.credential.native,
    context: ctx.native,
    targetName: options.targetName ?? ctx.targetName,
    contextReq,
    unconstrainedDelegation: options.delegation === 'unconstrained',
    token,
    channelBindings,
  }));
  return endLeg(ctx, handle, outcome, output, {
    allocate: (contextReq & F.ISC_REQ_ALLOCATE_MEMORY) !== 0,
    allocated: F.ISC_RET_ALLOCATED_MEMORY,
    tokenOnFailure: false,
  });
}

/**
 * The calls on an existing context that are refused before any native call, the context left as it was
 * (docs/api.md, "Context states"). A token after completion is not a re-authentication (that is a call without
 * one): GSS would take it as one leg too many and delete the context (MIT) or free it under its handle (Heimdal).
 */
function refusal(ctx: ContextState, withToken: boolean): InitializeOutcome | undefined {
  const refuse = (status: number, detail: string): InitializeOutcome => ({ status, context: ctx.native, contextAttr: 0, detail });
  if (ctx.phase === 'failed') {
    const { status, detail } = failedContext(ctx);
    return refuse(status, detail);
  }
  if (ctx.phase === 'complete' && withToken) {
    return refuse(S.SEC_E_INVALID_TOKEN, 'the context is complete: a token arrived after the exchange ended (call without a token to re-authenticate)');
  }
  if (ctx.phase === 'continuing' && !withToken) {
    return refuse(S.SEC_E_INVALID_TOKEN, 'the context expects the peer\'s token (SECBUFFER_TOKEN) on this call');
  }
  return undefined;
}

/** DeleteSecurityContext. SEC_E_INVALID_HANDLE when the handle is not live. */
export function deleteSecurityContext(context: ContextHandle): number {
  if (!(context instanceof ContextHandle)) return S.SEC_E_INVALID_HANDLE;
  return deleteContextState(context) ? S.SEC_E_OK : S.SEC_E_INVALID_HANDLE;
}

/**
 * CompleteAuthToken. Kerberos and Negotiate over Kerberos never return SEC_I_COMPLETE_NEEDED, so there is never
 * anything to complete: SEC_E_OK for a live context (ported code keeps working), SEC_E_INVALID_HANDLE otherwise.
 */
export function completeAuthToken(context: ContextHandle, _token?: SecBuffer[]): number {
  return contextState(context) ? S.SEC_E_OK : S.SEC_E_INVALID_HANDLE;
}

/** FreeContextBuffer. JS memory is garbage-collected: a no-op kept so that ported code runs. */
export function freeContextBuffer(_buffer?: unknown): number {
  return S.SEC_E_OK;
}
