// acquireCredentialsHandle for SECPKG_CRED_INBOUND: a service's credential (its keytab, per handle; on Windows the
// process's own account), for acceptSecurityContext (lib/facade/accept.ts). Called by acquireCredentialsHandle
// (lib/facade/api.ts) when `credentialUse` says inbound; kept apart so that the acceptor's facade and the client's do
// not import each other.
import { checkCString } from './cstring.js';
import { CredentialState, CredentialsHandle, type ContextState } from './handles.js';
import type { BindingsPolicy, InboundSource } from '../providers/acceptor.js';
import type { PackageName } from '../providers/provider.js';
import { currentAcceptor } from '../providers/select-acceptor.js';
import { SECPKG_CRED_BOTH, SECPKG_CRED_INBOUND, SECPKG_CRED_OUTBOUND } from '../vocabulary/accept-flags.js';

export interface InboundCredentialsOptions {
  package?: PackageName;
  credentialUse: number | 'inbound';
  /**
   * The service's keytab (`/path`, `FILE:/path`, ...), for this handle only; absent: the library's default keytab.
   * GSS-API only: on Windows the handle is the process's own account, and a keytab is SEC_E_UNSUPPORTED_FUNCTION.
   */
  keytab?: string;
  /** One service principal of the keytab (`HTTP/web.example.com@REALM`); absent: any service key in it. */
  principal?: string;
  /**
   * MIT's replay cache for this handle (an rcache name, e.g. `dfl:/var/tmp` or `file2:/path`); absent: MIT's default.
   * On Windows the replay cache is the OS's: SEC_E_UNSUPPORTED_FUNCTION.
   */
  replayCache?: string;
  /** The handle's channel-bindings policy (acceptSecurityContext may override it per call). Default `when-supported`. */
  channelBindings?: BindingsPolicy;
  /**
   * Constrained delegation (S4U2Proxy with the client's ticket as evidence, MIT only): the handle can also obtain
   * tickets as `principal` (required) from the keytab, and a client whose ticket is forwardable leaves a delegated
   * credential (delegatedCredential) that reaches the services the KDC allows this one to delegate to, as the client.
   */
  constrainedDelegation?: boolean;
  signal?: AbortSignal;
}

export const INBOUND_KEYS = new Set(['package', 'credentialUse', 'use', 'keytab', 'principal', 'replayCache', 'channelBindings', 'constrainedDelegation', 'signal']);

const POLICIES: readonly BindingsPolicy[] = ['required', 'when-supported', 'never'];

/** What acceptSecurityContext needs to know of an inbound handle beyond its provider credential. */
const inbound = new WeakMap<CredentialState, { policy: BindingsPolicy }>();

export function inboundOf(state: CredentialState): { policy: BindingsPolicy } | undefined {
  return inbound.get(state);
}

/** The server contexts (from acceptSecurityContext): initializeSecurityContext refuses them, and the reverse. */
const serverContexts = new WeakSet<ContextState>();

export function markServerContext(state: ContextState): void {
  serverContexts.add(state);
}

export function isServerState(state: ContextState): boolean {
  return serverContexts.has(state);
}

export function checkPolicy(value: unknown, what: string): BindingsPolicy | undefined {
  if (value === undefined) return undefined;
  if (!POLICIES.includes(value as BindingsPolicy)) throw new TypeError(`${what} must be "required", "when-supported" or "never"`);
  return value as BindingsPolicy;
}

/** Whether acquireCredentialsHandle's options ask for an inbound credential (TypeError for a use we do not know). */
export function wantsInbound(options: { credentialUse?: unknown }): boolean {
  const use = options.credentialUse;
  if (use === undefined || use === SECPKG_CRED_OUTBOUND || use === 'outbound') return false;
  if (use === SECPKG_CRED_INBOUND || use === 'inbound') return true;
  if (use === SECPKG_CRED_BOTH) throw new TypeError('credentialUse SECPKG_CRED_BOTH is not supported: acquire an inbound and an outbound handle');
  throw new TypeError('credentialUse must be SECPKG_CRED_INBOUND or SECPKG_CRED_OUTBOUND');
}

function optionalString(value: unknown, what: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0) throw new TypeError(`${what} must be a non-empty string`);
  return checkCString(value, what);
}

/**
 * An inbound handle. Like outbound ones, a credential that cannot be had (no keytab, no key for `principal`) is
 * reported by the first acceptSecurityContext with it (SEC_E_NO_CREDENTIALS), and by queryCredentialsAttributes.
 */
export async function acquireInbound(options: InboundCredentialsOptions): Promise<CredentialsHandle> {
  for (const key of Object.keys(options)) {
    if (!INBOUND_KEYS.has(key)) throw new TypeError(`acquireCredentialsHandle: option "${key}" does not apply to an inbound credential`);
  }
  const pkg = options.package ?? 'Negotiate';
  if (pkg !== 'Negotiate' && pkg !== 'Kerberos') throw new TypeError('package must be "Negotiate" or "Kerberos"');
  const source: InboundSource = { package: pkg };
  const keytab = optionalString(options.keytab, 'keytab');
  const principal = optionalString(options.principal, 'principal');
  const replayCache = optionalString(options.replayCache, 'replayCache');
  if (keytab) source.keytab = keytab;
  if (principal) source.principal = principal;
  if (replayCache) source.replayCache = replayCache;
  if (options.constrainedDelegation !== undefined) {
    if (typeof options.constrainedDelegation !== 'boolean') throw new TypeError('constrainedDelegation must be a boolean');
    if (options.constrainedDelegation && !principal) throw new TypeError('constrainedDelegation needs the service\'s principal (it obtains tickets as that principal)');
    if (options.constrainedDelegation) source.constrainedDelegation = true;
  }
  const policy = checkPolicy(options.channelBindings, 'channelBindings') ?? 'when-supported';
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) throw new TypeError('signal must be an AbortSignal');
  options.signal?.throwIfAborted();
  const acceptor = currentAcceptor();
  // A keytab read (or, on Windows, a handle for the process's account): local and quick, so not abandoned on abort
  // (the signal is checked before it).
  const { credential, failure } = await acceptor.acquireInbound(source);
  const state = new CredentialState(acceptor.provider, credential);
  if (failure) state.failure = failure;
  inbound.set(state, { policy });
  return new CredentialsHandle(state, pkg, undefined);
}
