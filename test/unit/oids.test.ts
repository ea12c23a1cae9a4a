// The mechanism OIDs are defined once for lib/ (lib/protocol/oids.ts); ffi/ keeps its own copy for the native calls
// because ffi/ may not import lib/. This keeps the two from drifting apart.
import { expect } from 'chai';
import { OIDS } from '../../ffi/gssapi.js';
import { KERBEROS_OIDS, MECH_OID, isKerberosOid } from '../../lib/protocol/oids.js';
import { MECH_OID as REEXPORTED } from '../../lib/protocol/index.js';

describe('mechanism OIDs: one source for lib/', () => {
  it('ffi/gssapi.ts OIDS names the same mechanisms as lib/protocol/oids.ts', () => {
    expect(OIDS.MECH_KRB5).to.equal(MECH_OID.KRB5);
    expect(OIDS.MECH_SPNEGO).to.equal(MECH_OID.SPNEGO);
    expect(OIDS.MECH_NTLMSSP).to.equal(MECH_OID.NTLM);
  });

  it('the codec re-exports the same object, not a copy', () => {
    expect(REEXPORTED).to.equal(MECH_OID);
  });

  it('both Kerberos OIDs, and only they, are Kerberos', () => {
    expect(KERBEROS_OIDS).to.deep.equal(['1.2.840.113554.1.2.2', '1.2.840.48018.1.2.2']);
    for (const oid of KERBEROS_OIDS) expect(isKerberosOid(oid)).to.equal(true);
    for (const oid of [MECH_OID.SPNEGO, MECH_OID.NTLM, MECH_OID.NEGOEX, '1.2.840.113554.1.2.2.3']) expect(isKerberosOid(oid)).to.equal(false);
  });
});
