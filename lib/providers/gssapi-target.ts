// SSPI target names as GSS names: which name type a target string is imported with.
import * as G from '../../ffi/gssapi.js';

/**
 * SSPI target names to GSS names: `svc/host` and `svc/host@REALM` are Kerberos principal names, used as given (no
 * DNS canonicalization: what you name is what you get); `svc@host` is a GSS host-based service name, which the GSS
 * library maps to a principal by its krb5.conf rules.
 */
export function targetNameType(target: string, anyMech = false): { text: string; type: string } | undefined {
  // A name every mechanism reads (NTLM has no Kerberos principal names): service/host becomes service@host.
  if (anyMech && /^[^/@\s]+\/[^/@\s]+$/.test(target)) return { text: target.replace('/', '@'), type: G.OIDS.NT_HOSTBASED_SERVICE };
  if (/^[^/@\s]+\/[^/@\s]+(@[^/@\s]+)?$/.test(target)) return { text: target, type: G.OIDS.KRB5_NT_PRINCIPAL_NAME };
  if (/^[^/@\s]+@[^/@\s]+$/.test(target)) return { text: target, type: G.OIDS.NT_HOSTBASED_SERVICE };
  return undefined;
}
