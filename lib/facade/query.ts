// QueryContextAttributes, QuerySecurityPackageInfo and EnumerateSecurityPackages.
import { contextState, credentialState, failedContext, type ContextHandle, type CredentialsHandle } from './handles.js';
import type { AttributeOutcome } from '../providers/provider.js';
import { currentProvider } from '../providers/select.js';
import { SessionKeyValue } from './secbuffer.js';
import {
  SECPKG_ATTR_NEGOTIATION_INFO, SECPKG_ATTR_PACKAGE_INFO, SECPKG_ATTR_SESSION_KEY, type ContextAttribute, type ContextAttributeValues,
  type CredentialAttribute, type CredentialAttributeValues, type SecPkgInfo,
} from '../vocabulary/attributes.js';
import * as S from '../vocabulary/status.js';

export interface AttributeResult<T> {
  status: number;
  statusName: string;
  value?: T;
  error?: S.SecurityError;
  gss?: S.GssStatusDetail;
}

/**
 * QueryContextAttributes. SECPKG_ATTR_PACKAGE_INFO and NEGOTIATION_INFO answer from the first leg on; the others
 * need an established context. An attribute the backend cannot supply gives SEC_E_UNSUPPORTED_FUNCTION.
 */
export function queryContextAttributes<A extends ContextAttribute>(context: ContextHandle, attribute: A): AttributeResult<ContextAttributeValues[A]>;
export function queryContextAttributes(context: ContextHandle, attribute: number): AttributeResult<unknown>;
export function queryContextAttributes(context: ContextHandle, attribute: number): AttributeResult<unknown> {
  if (!Number.isInteger(attribute)) throw new TypeError('queryContextAttributes: attribute must be a SECPKG_ATTR_* number');
  const state = contextState(context);
  const outcome: AttributeOutcome = !state?.native
    ? { status: S.SEC_E_INVALID_HANDLE, detail: 'the context handle is not a live ContextHandle' }
    : state.phase === 'failed'
      ? failedContext(state)
      : state.phase === 'continuing' && attribute !== SECPKG_ATTR_PACKAGE_INFO && attribute !== SECPKG_ATTR_NEGOTIATION_INFO
        ? { status: S.SEC_E_INVALID_HANDLE, detail: 'the context is not established yet (only PACKAGE_INFO and NEGOTIATION_INFO answer before)' }
        : state.busy
      ? { status: S.SEC_E_INVALID_HANDLE, detail: 'an initializeSecurityContext call on this context has not finished' }
      : state.provider.queryContextAttributes(state.native, attribute);
  const result = toResult(outcome);
  // The key reads as usual but prints as its type and size (docs/security.md: no keys in inspect or JSON).
  if (attribute === SECPKG_ATTR_SESSION_KEY && result.value) result.value = new SessionKeyValue(result.value as { sessionKey: Buffer; keyType: number });
  return result;
}

function toResult(outcome: AttributeOutcome): AttributeResult<unknown> {
  const result: AttributeResult<unknown> = { status: outcome.status, statusName: S.statusName(outcome.status) };
  if (outcome.value !== undefined) result.value = outcome.value;
  if (!S.isSuccess(outcome.status)) {
    result.error = new S.SecurityError(outcome.status, outcome.detail, outcome.gss);
    if (outcome.gss) result.gss = outcome.gss;
  }
  return result;
}

/**
 * QueryCredentialsAttributes: SECPKG_CRED_ATTR_NAMES (the principal) and SECPKG_ATTR_LIFESPAN (when the TGT
 * expires). A credential that cannot be read gives its SEC_E code (SEC_E_NO_CREDENTIALS for an empty cache).
 */
export async function queryCredentialsAttributes<A extends CredentialAttribute>(credential: CredentialsHandle, attribute: A): Promise<AttributeResult<CredentialAttributeValues[A]>>;
export async function queryCredentialsAttributes(credential: CredentialsHandle, attribute: number): Promise<AttributeResult<unknown>>;
export async function queryCredentialsAttributes(credential: CredentialsHandle, attribute: number): Promise<AttributeResult<unknown>> {
  if (!Number.isInteger(attribute)) throw new TypeError('queryCredentialsAttributes: attribute must be a number');
  const state = credentialState(credential);
  if (!state) return toResult({ status: S.SEC_E_INVALID_HANDLE, detail: 'the credential handle is not a live CredentialsHandle' });
  if (state.failure) return toResult(state.failure);
  // The native credential stays alive for the pool call, even if the handle is freed meanwhile.
  state.retain();
  try {
    return toResult(await state.provider.queryCredentialsAttributes(state.native, attribute));
  } finally {
    state.release();
  }
}

/** QuerySecurityPackageInfo: `Negotiate` or `Kerberos`; SEC_E_SECPKG_NOT_FOUND for others or without GSS-API. */
export function querySecurityPackageInfo(name: string): AttributeResult<SecPkgInfo> {
  if (typeof name !== 'string') throw new TypeError('querySecurityPackageInfo: name must be a string');
  const known = enumerateSecurityPackages();
  const found = known.value?.find((p) => p.name.toLowerCase() === name.toLowerCase());
  if (found) return { status: S.SEC_E_OK, statusName: 'SEC_E_OK', value: found };
  const error = known.error ?? new S.SecurityError(S.SEC_E_SECPKG_NOT_FOUND, `no package "${name}" (this library offers Negotiate and Kerberos)`);
  return { status: error.status, statusName: error.statusName, error };
}

/** EnumerateSecurityPackages: the packages this process can use (both need the GSS library's krb5 mechanism). */
export function enumerateSecurityPackages(): AttributeResult<SecPkgInfo[]> {
  try {
    return { status: S.SEC_E_OK, statusName: 'SEC_E_OK', value: currentProvider().securityPackages() };
  } catch (err) {
    const error = err as S.SecurityError;
    return { status: error.status, statusName: error.statusName, error };
  }
}
