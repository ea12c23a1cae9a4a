// Which mechanism a source's contexts run (the krb5 mechanism, which our SPNEGO frames, or the GSS library's own
// SPNEGO), and the NTLM policy of the library's SPNEGO: `ntlm: false` is kept on the credential where the library
// can (gss_set_neg_mechs), and enforced on the tokens everywhere.
import * as G from '../../ffi/gssapi.js';
import { GSS_S_BAD_MECH } from '../../ffi/gss-status.js';
import { decodeNegToken } from '../protocol/tokens.js';
import * as S from '../vocabulary/status.js';
import { withStatus, type Failure } from './failure.js';
import { ownFailure, releaseCred, setNegMechs } from './gssapi-native.js';
import type { CredentialSource } from './provider.js';

/** The mechanism the inner GSS context runs: krb5 for Kerberos and our SPNEGO, the library's SPNEGO otherwise. */
export function mechFor(source: CredentialSource): string {
  if (source.package === 'Negotiate' && source.spnego === 'system') return G.OIDS.MECH_SPNEGO;
  return G.OIDS.MECH_KRB5;
}

/** The mechanisms a source's credential is acquired for. */
export function mechsFor(source: CredentialSource): string[] {
  return mechFor(source) === G.OIDS.MECH_SPNEGO ? [G.OIDS.MECH_SPNEGO, G.OIDS.MECH_KRB5] : [G.OIDS.MECH_KRB5];
}

/** The library's SPNEGO, kept from NTLM: such a source needs a credential of its own to carry the restriction. */
export function refusesNtlm(source: CredentialSource): boolean {
  return mechFor(source) === G.OIDS.MECH_SPNEGO && !source.ntlm;
}

/**
 * Keeps the library's SPNEGO from offering NTLM with `cred` (gss_set_neg_mechs: krb5 only), where the source refuses
 * NTLM and the library has the call; the failure when it refused, with `cred` released. Without the call (Heimdal)
 * the refusal is enforced on the tokens instead (ntlmRefusal).
 */
export function restrictToKerberos(source: CredentialSource, cred: bigint | null): Failure | undefined {
  if (!refusesNtlm(source) || !cred || !G.gssapi().fn.gss_set_neg_mechs) return undefined;
  const refused = setNegMechs(cred, [G.OIDS.MECH_KRB5]);
  if (refused) releaseCred(cred);
  return refused;
}

/** What ntlmRefusal reads of a context after a leg. */
export interface LegState {
  complete: boolean;
  /** Our SPNEGO framing (never offers NTLM), when it runs. */
  spnego?: unknown;
  /** The mechanism the library's SPNEGO settled on. */
  negotiatedMech?: string;
}

/**
 * `ntlm: false` with the system SPNEGO, checked on what it actually does: a first token offering NTLM, or a context
 * that settled on it, never leaves. The credential's mechanism list already keeps MIT from offering NTLM
 * (gss_set_neg_mechs); this is what enforces the policy on libraries without that call.
 */
export function ntlmRefusal(source: CredentialSource, step: { token: Buffer }, state: LegState): Failure | undefined {
  if (source.ntlm || state.spnego || mechFor(source) !== G.OIDS.MECH_SPNEGO) return undefined;
  let offered = false;
  if (!state.complete && step.token.length > 0) {
    try {
      const t = decodeNegToken(step.token);
      offered = t.kind === 'init' && t.token.mechTypes.includes(G.OIDS.MECH_NTLMSSP);
    } catch {
      // not a NegTokenInit: nothing offered here
    }
  }
  if (!offered && state.negotiatedMech !== G.OIDS.MECH_NTLMSSP) return undefined;
  // GSS would say GSS_S_BAD_MECH (the table's SEC_E_SECPKG_NOT_FOUND); the refusal is a policy, as SSPI's
  // SEC_E_UNSUPPORTED_FUNCTION for a package it will not use.
  const why = 'NTLM is refused (ntlm: false), and the GSS library\'s SPNEGO offered or chose it; use spnego: "library" or allow NTLM';
  return withStatus(ownFailure(GSS_S_BAD_MECH, why), S.SEC_E_UNSUPPORTED_FUNCTION, why);
}
