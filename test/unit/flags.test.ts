// Pure mappings of the GSS provider: ISC_REQ -> GSS flags, GSS -> ISC_RET, target-name forms.
import { expect } from 'chai';
import * as G from '../../ffi/gssapi.js';
import { gssOid, readOid } from '../../lib/providers/gssapi-oid.js';
import { encodeOid } from '../../lib/protocol/oid.js';
import { GssapiProvider } from '../../lib/providers/gssapi.js';
import { gssRequestFlags, iscRetFlags } from '../../lib/providers/gssapi-flags.js';
import { targetNameType } from '../../lib/providers/gssapi-target.js';
import * as F from '../../lib/vocabulary/flags.js';

describe('ISC_REQ / ISC_RET mapping', () => {
  it('asks GSS for policy delegation when ISC_REQ_DELEGATE is set (Windows semantics: ok-as-delegate only)', () => {
    expect(gssRequestFlags(F.ISC_REQ_DELEGATE)).to.equal(G.GSS_C_DELEG_POLICY_FLAG);
  });
  it('maps the security requests one to one', () => {
    const req = F.ISC_REQ_MUTUAL_AUTH | F.ISC_REQ_REPLAY_DETECT | F.ISC_REQ_SEQUENCE_DETECT | F.ISC_REQ_CONFIDENTIALITY | F.ISC_REQ_INTEGRITY;
    expect(gssRequestFlags(req)).to.equal(G.GSS_C_MUTUAL_FLAG | G.GSS_C_REPLAY_FLAG | G.GSS_C_SEQUENCE_FLAG | G.GSS_C_CONF_FLAG | G.GSS_C_INTEG_FLAG);
  });
  it('drops INTEGRITY under ISC_REQ_NO_INTEGRITY', () => {
    expect(gssRequestFlags(F.ISC_REQ_INTEGRITY | F.ISC_REQ_NO_INTEGRITY) & G.GSS_C_INTEG_FLAG).to.equal(0);
  });
  it('maps granted GSS flags back to ISC_RET_*', () => {
    expect(iscRetFlags(G.GSS_C_DELEG_FLAG | G.GSS_C_MUTUAL_FLAG | G.GSS_C_CONF_FLAG | G.GSS_C_INTEG_FLAG, 0))
      .to.equal(F.ISC_RET_DELEGATE | F.ISC_RET_MUTUAL_AUTH | F.ISC_RET_CONFIDENTIALITY | F.ISC_RET_INTEGRITY);
    expect(iscRetFlags(0, F.ISC_REQ_CONNECTION)).to.equal(F.ISC_RET_CONNECTION);
    expect(iscRetFlags(G.GSS_C_DCE_STYLE, 0)).to.equal(F.ISC_RET_USED_DCE_STYLE);
  });
  it('does not claim to honour requests GSS has no counterpart for', () => {
    const supported = new GssapiProvider().supportedContextReq;
    for (const bit of [F.ISC_REQ_PROMPT_FOR_CREDS, F.ISC_REQ_USE_SUPPLIED_CREDS, F.ISC_REQ_DATAGRAM, F.ISC_REQ_NULL_SESSION,
      F.ISC_REQ_USE_SESSION_KEY, F.ISC_REQ_FRAGMENT_TO_FIT, F.ISC_REQ_USE_HTTP_STYLE]) {
      expect(supported & bit, F.iscRetNames(bit).join()).to.equal(0);
    }
  });
});

describe('target names', () => {
  it('takes svc/host and svc/host@REALM as Kerberos principal names', () => {
    expect(targetNameType('HTTP/web.example.com')?.type).to.equal(G.OIDS.KRB5_NT_PRINCIPAL_NAME);
    expect(targetNameType('HTTP/web.example.com@EXAMPLE.COM')?.type).to.equal(G.OIDS.KRB5_NT_PRINCIPAL_NAME);
  });
  it('takes svc@host as a GSS host-based service name', () => {
    expect(targetNameType('HTTP@web.example.com')?.type).to.equal(G.OIDS.NT_HOSTBASED_SERVICE);
  });
  it('refuses anything else', () => {
    for (const bad of ['', 'web.example.com', 'a/b/c', 'HTTP/ web', 'a@b@c']) expect(targetNameType(bad), bad).to.equal(undefined);
  });
});

describe('OID encoding', () => {
  it('encodes and reads back the OIDs we pass', () => {
    expect(encodeOid(G.OIDS.MECH_KRB5).toString('hex')).to.equal('2a864886f712010202');
    expect(encodeOid(G.OIDS.MECH_SPNEGO).toString('hex')).to.equal('2b0601050502');
    for (const oid of Object.values(G.OIDS)) expect(readOid(gssOid(oid))).to.equal(oid);
  });
});
