// The GSS-API backend (MIT, Heimdal, Apple): the Provider object, in SSPI terms. Its parts, each in a file of its own:
// flags (gssapi-flags.ts), target names (gssapi-target.ts), credential sources (gssapi-sources.ts), the credential
// handle (gssapi-credential.ts), the NTLM policy (gssapi-ntlm.ts), InitializeSecurityContext (gssapi-initialize.ts)
// over the initiator step (gssapi-step.ts) and our SPNEGO framing (spnego-initiator.ts), message calls
// (gssapi-message.ts), attributes (gssapi-attributes.ts), and the status table (gssapi-status.ts).
import * as G from '../../ffi/gssapi.js';
import { GSS_S_CONTEXT_EXPIRED } from '../../ffi/gss-status.js';
import * as S from '../vocabulary/status.js';
import {
  SECPKG_ATTR_LIFESPAN,
  SECPKG_ATTR_NEGOTIATION_INFO,
  SECPKG_ATTR_PACKAGE_INFO,
  SECPKG_CRED_ATTR_NAMES,
  type SecPkgInfo,
} from '../vocabulary/attributes.js';
import { isFailure, outcomeOf } from './failure.js';
import { packageInfo, queryAttribute } from './gssapi-attributes.js';
import { GssCredential, lifespan, type Binding } from './gssapi-credential.js';
import { SUPPORTED_CONTEXT_REQ, iscRetFlags } from './gssapi-flags.js';
import { initializeContext, type GssContextState } from './gssapi-initialize.js';
import { GssMessageCalls } from './gssapi-message.js';
import { gssFailure, inquireCred, installedMechs } from './gssapi-native.js';
import { acquire, nextMethod, nextTgt, renews, type Acquired } from './gssapi-sources.js';
import { tgtTimes } from './krb5-native.js';
import type {
  AcquireOutcome,
  AttributeOutcome,
  CredentialSource,
  InitializeOutcome,
  InitializeRequest,
  MessageOutcome,
  Provider,
  ProviderContext,
  ProviderCredential,
} from './provider.js';
import { Renewer } from './renewal.js';

export class GssapiProvider extends GssMessageCalls implements Provider {
  readonly name = 'gssapi';
  readonly supportedContextReq = SUPPORTED_CONTEXT_REQ;

  async acquireCredentials(source: CredentialSource): Promise<AcquireOutcome> {
    const credential = new GssCredential(source, acquire(source));
    const acquired = await credential.acquired;
    if (isFailure(acquired)) return { credential, failure: acquired };
    const times = acquired.privateCache ? tgtTimes(acquired.privateCache) : undefined;
    if (acquired.cred && acquired.privateCache && times && renews(source, times)) {
      const initial: Binding = { cred: acquired.cred, cache: acquired.privateCache, times, method: source.keytab ? 'keytab' : 'password', refs: 0, retired: false };
      credential.renewer = new Renewer(initial, (previous) => nextTgt(source, previous), (old) => credential.retire(old), source.onRenewal,
        (previous) => nextMethod(source, previous.times));
    }
    return { credential, expiry: acquired.expiry };
  }

  initialize(request: InitializeRequest): Promise<InitializeOutcome> {
    return initializeContext(request);
  }

  protected unusable(context: ProviderContext): MessageOutcome | undefined {
    return usable(context);
  }

  async queryCredentialsAttributes(credential: ProviderCredential, attribute: number): Promise<AttributeOutcome> {
    if (attribute !== SECPKG_CRED_ATTR_NAMES && attribute !== SECPKG_ATTR_LIFESPAN) {
      return { status: S.SEC_E_UNSUPPORTED_FUNCTION, detail: `credential attribute ${attribute} is not available over GSS-API` };
    }
    const cred = credential as GssCredential;
    const acquired = await cred.acquired;
    // A renewing handle's TGT in use, held for the pool call (a renewal meanwhile would free it otherwise).
    const held = isFailure(acquired) ? undefined : await cred.take();
    let info: Awaited<ReturnType<typeof inquireCred>>;
    try {
      info = isFailure(acquired) ? acquired : held && isFailure(held) ? held : await inquireCred(held?.cred ?? acquired.cred);
    } finally {
      if (held && !isFailure(held)) cred.drop(held);
    }
    if (isFailure(info)) return outcomeOf(info);
    if (attribute === SECPKG_ATTR_LIFESPAN) return { status: S.SEC_E_OK, value: lifespan(cred, acquired as Acquired, info.expiry, (held as Binding | undefined)?.times) };
    return info.name ? { status: S.SEC_E_OK, value: { userName: info.name } } : { status: S.SEC_E_NO_CREDENTIALS, detail: 'the credential names no principal' };
  }

  securityPackages(): SecPkgInfo[] {
    // Both packages need the krb5 mechanism (Negotiate frames SPNEGO around it).
    return installedMechs().includes(G.OIDS.MECH_KRB5) ? [packageInfo('Negotiate'), packageInfo('Kerberos')] : [];
  }

  queryContextAttributes(context: ProviderContext, attribute: number): AttributeOutcome {
    const state = context as GssContextState;
    // Package and negotiation state are known from the first leg; everything else needs the finished context.
    if (attribute !== SECPKG_ATTR_PACKAGE_INFO && attribute !== SECPKG_ATTR_NEGOTIATION_INFO) {
      const notYet = established(context);
      if (notYet) return notYet;
    }
    const negotiated = state.negotiatedMech === G.OIDS.MECH_NTLMSSP ? 'NTLM' : 'Kerberos';
    return queryAttribute(state.mech, attribute, state.pkg, negotiated, state.established, (flags) => iscRetFlags(flags, 0));
  }
}

/**
 * Message calls need an established context whose ticket has not expired. MIT 1.20 and Heimdal 7.8 still sign and
 * seal with an expired context (observed: gss_get_mic returned GSS_S_COMPLETE past the ticket's end); RFC 2743
 * §2.3 gives the per-message calls GSS_S_CONTEXT_EXPIRED for "context-related data items have expired", and SSPI
 * answers SEC_E_CONTEXT_EXPIRED: so do we.
 */
function usable(context: ProviderContext): MessageOutcome | undefined {
  const notYet = established(context);
  if (notYet) return notYet;
  const expiry = (context as GssContextState).expiry;
  if (expiry && Date.now() >= expiry.getTime()) {
    return outcomeOf(gssFailure(GSS_S_CONTEXT_EXPIRED, 0, G.OIDS.MECH_KRB5, `the context expired at ${expiry.toISOString()} (its service ticket's end): establish a new one`));
  }
  return undefined;
}

/** Per-message calls and most attributes need an established context (SEC_E_INVALID_HANDLE otherwise, as SSPI). */
function established(context: ProviderContext): { status: number; detail: string } | undefined {
  const state = context as GssContextState;
  if (!state.complete) return { status: S.SEC_E_INVALID_HANDLE, detail: 'the context is not established yet' };
  // Never hand GSS_C_NO_CONTEXT to the library: Heimdal dereferences it in some calls.
  return state.mech.handle ? undefined : { status: S.SEC_E_INVALID_HANDLE, detail: 'the GSS library deleted this context' };
}
