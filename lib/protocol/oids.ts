// The mechanism OIDs the protocol layer speaks of, defined once for lib/ (ffi/gssapi.ts keeps its own OIDS for the
// native calls, since ffi/ may not import lib/; test/unit/oids.test.ts checks that the two agree).
export const MECH_OID = {
  SPNEGO: '1.3.6.1.5.5.2',
  /** Kerberos V5 (RFC 4121 §1.1). */
  KRB5: '1.2.840.113554.1.2.2',
  /**
   * Kerberos V5 under Microsoft's OID, born of a Windows 2000 encoding bug, which Windows initiators still list
   * first (MS-SPNG §3.1.5.2 names the standard one). It is the same mechanism.
   */
  MS_KRB5: '1.2.840.48018.1.2.2',
  NTLM: '1.3.6.1.4.1.311.2.2.10',
  NEGOEX: '1.3.6.1.4.1.311.2.2.30',
} as const;

/** Both OIDs of the Kerberos mechanism, the standard one first. */
export const KERBEROS_OIDS: readonly string[] = [MECH_OID.KRB5, MECH_OID.MS_KRB5];

export function isKerberosOid(oid: string): boolean {
  return oid === MECH_OID.KRB5 || oid === MECH_OID.MS_KRB5;
}
