// S4U2Self (protocol transition): a service with its own keytab obtains a credential as a user, who never logs on,
// and authenticates to itself as that user. S4U2Proxy (onward to another service) needs constrained delegation,
// which MIT's KDC decides only with its LDAP database module (krbAllowedToDelegateTo): the DB2 realm refuses it,
// and a second, LDAP-backed KDC (test/harness/ldap-kdc.ts) grants it to the service it names and no other.
import { expect } from 'chai';
import {
  ASC_RET_DELEGATE, SECPKG_ATTR_NAMES, SECPKG_CRED_ATTR_NAMES, SECPKG_CRED_INBOUND, acceptSecurityContext, acquireCredentialsHandle,
  delegatedCredential, deleteSecurityContext, freeCredentialsHandle, initializeSecurityContext, queryContextAttributes,
  queryCredentialsAttributes, type ContextHandle, type CredentialsHandle,
} from '../../lib/index.js';
import * as F from '../../lib/vocabulary/flags.js';
import { PythonAcceptor } from '../harness/python-acceptor.js';
import { isHeimdal } from '../harness/flavour.js';
import { ldapKdcAvailable, ldapKdcMissing, startLdapKdc } from '../harness/ldap-kdc.js';
import { PYTHON_GSSAPI, realmSuite } from '../harness/realm-suite.js';
import { expectAcquireRefused } from '../harness/refusals.js';
import { needs } from '../harness/skip.js';

const REQ = F.ISC_REQ_MUTUAL_AUTH | F.ISC_REQ_INTEGRITY;

describe('S4U: a service acting for a user', function () {
  this.timeout(60_000);
  // python3-gssapi (installed by .ci/run) is the service's acceptor side.
  const realm = realmSuite({ needs: [PYTHON_GSSAPI] });

  it('S4U2Self: the service authenticates to itself as bob, who never logged on', async () => {
    const deleg = realm.kdc.principals.deleg;
    const service = await acquireCredentialsHandle({ keytab: deleg.keytab, principal: deleg.name });
    const asBob = await acquireCredentialsHandle({ principal: realm.kdc.principals.bob.name, impersonator: service });
    freeCredentialsHandle(service);
    if (isHeimdal()) {
      // Heimdal's GSS-API has no gss_acquire_cred_impersonate_name: the handle says so at its first use.
      const q = await queryCredentialsAttributes(asBob, SECPKG_CRED_ATTR_NAMES);
      expect(q.statusName).to.equal('SEC_E_UNSUPPORTED_FUNCTION');
      expect(q.error!.message).to.contain('gss_acquire_cred_impersonate_name');
      freeCredentialsHandle(asBob);
      return;
    }
    expect((await queryCredentialsAttributes(asBob, SECPKG_CRED_ATTR_NAMES)).value).to.deep.equal({ userName: realm.kdc.principals.bob.name });
    const peer = new PythonAcceptor({ ...realm.kdc.env, KRB5_KTNAME: `FILE:${deleg.keytab}` });
    try {
      await peer.start(`HTTP@deleg.${realm.kdc.domain}`);
      const r = await initializeSecurityContext({ credential: asBob, targetName: `HTTP/deleg.${realm.kdc.domain}`, contextReq: REQ });
      expect(r.statusName, r.error?.message).to.equal('SEC_I_CONTINUE_NEEDED');
      const s = await peer.step(r.output[0].buffer);
      expect(s.user).to.equal(realm.kdc.principals.bob.name);
      const done = await initializeSecurityContext({ context: r.context, contextReq: REQ, input: [{ type: F.SECBUFFER_TOKEN, buffer: s.token }] });
      expect(done.statusName).to.equal('SEC_E_OK');
      deleteSecurityContext(r.context!);
    } finally {
      peer.close();
    }

    // The service handle freed while the S4U2Self acquisition runs: the call keeps its credential alive.
    const service2 = await acquireCredentialsHandle({ keytab: deleg.keytab, principal: deleg.name });
    const pending = acquireCredentialsHandle({ principal: realm.kdc.principals.bob.name, impersonator: service2 });
    expect(freeCredentialsHandle(service2)).to.equal(0);
    const asBob2 = await pending;
    const q2 = await queryCredentialsAttributes(asBob2, SECPKG_CRED_ATTR_NAMES);
    expect(q2.statusName, q2.error?.message).to.equal('SEC_E_OK');
    const first = await initializeSecurityContext({ credential: asBob2, targetName: `HTTP/deleg.${realm.kdc.domain}`, contextReq: REQ });
    expect(first.statusName, first.error?.message).to.equal('SEC_I_CONTINUE_NEEDED');
    deleteSecurityContext(first.context!);
    freeCredentialsHandle(asBob2);

    // Onward to another service is S4U2Proxy: refused by a KDC without constrained delegation (DB2).
    const onward = await initializeSecurityContext({ credential: asBob, targetName: `HTTP/${realm.kdc.hostname}`, contextReq: REQ });
    // MIT's DB2 module has no constrained-delegation policy, so the KDC answers KDC_ERR_BADOPTION.
    expect(onward.statusName, JSON.stringify(onward.gss)).to.equal('SEC_E_KDC_INVALID_REQUEST');
    expect(onward.gss?.minor).to.equal(-1765328371);
    expect(onward.error?.message).to.match(/KDC can't fulfill requested option/);
    freeCredentialsHandle(asBob);
  });

  it('S4U2Proxy: where the KDC allows it (LDAP KDB), the front service reaches the back end as the user, and no other service', async function () {
    // slapd, ldap-utils and krb5-kdc-ldap come from .ci/run; python3-gssapi is the back end.
    needs(this, ldapKdcAvailable(), ldapKdcMissing() ?? '');
    const ldap = await startLdapKdc();
    const saved = process.env.KRB5_CONFIG;
    process.env.KRB5_CONFIG = `${ldap.krb5Config}:${realm.kdc.krb5Config}`;
    const peer = new PythonAcceptor({ ...realm.kdc.env, KRB5_CONFIG: process.env.KRB5_CONFIG, KRB5_KTNAME: `FILE:${ldap.back.keytab}` });
    try {
      const service = await acquireCredentialsHandle({ keytab: ldap.front.keytab, principal: ldap.front.name });
      const asCarol = await acquireCredentialsHandle({ principal: ldap.user, impersonator: service });
      freeCredentialsHandle(service);
      if (isHeimdal()) {
        expect((await queryCredentialsAttributes(asCarol, SECPKG_CRED_ATTR_NAMES)).statusName).to.equal('SEC_E_UNSUPPORTED_FUNCTION');
        freeCredentialsHandle(asCarol);
        return;
      }
      await peer.start('HTTP@back.s4u.test');
      const r = await initializeSecurityContext({ credential: asCarol, targetName: ldap.back.name, contextReq: REQ });
      expect(r.statusName, r.error?.message).to.equal('SEC_I_CONTINUE_NEEDED');
      const s = await peer.step(r.output[0].buffer);
      expect(s.error).to.equal(null);
      expect(s.user, 'the back end sees the user, not the front service').to.equal(ldap.user);
      const done = await initializeSecurityContext({ context: r.context, contextReq: REQ, input: [{ type: F.SECBUFFER_TOKEN, buffer: s.token }] });
      expect(done.statusName).to.equal('SEC_E_OK');
      deleteSecurityContext(r.context!);

      const refused = await initializeSecurityContext({ credential: asCarol, targetName: ldap.other.name, contextReq: REQ });
      expect(refused.statusName, 'a service outside krbAllowedToDelegateTo').to.equal('SEC_E_KDC_INVALID_REQUEST');
      expect(refused.gss?.minor).to.equal(-1765328371);
      freeCredentialsHandle(asCarol);
    } finally {
      peer.close();
      process.env.KRB5_CONFIG = saved;
      await ldap.stop();
    }
  });

  it('S4U2Proxy with the client\'s ticket as evidence: a client authenticates to our acceptor, which reaches the back end as the client, and no other service', async function () {
    needs(this, ldapKdcAvailable(), ldapKdcMissing() ?? '');
    const ldap = await startLdapKdc();
    const saved = process.env.KRB5_CONFIG;
    process.env.KRB5_CONFIG = `${ldap.krb5Config}:${realm.kdc.krb5Config}`;
    const handles: CredentialsHandle[] = [];
    const contexts: ContextHandle[] = [];
    const keep = <T extends CredentialsHandle | undefined>(h: T): T => (h && handles.push(h), h);
    try {
      // carol logs on with a forwardable TGT, so that her ticket for the front service is forwardable: the evidence.
      const front = keep(await acquireCredentialsHandle({ package: 'Kerberos', credentialUse: SECPKG_CRED_INBOUND, keytab: ldap.front.keytab, principal: ldap.front.name, constrainedDelegation: true }));
      if (isHeimdal()) {
        // Heimdal's GSS-API has no S4U: the handle says so at its first use. (Heimdal reads krb5.conf once per
        // thread, so this realm, added at run time, may not be known to the client here anyway.)
        expect((await queryCredentialsAttributes(front, SECPKG_CRED_ATTR_NAMES)).statusName).to.equal('SEC_E_UNSUPPORTED_FUNCTION');
        const s = await acceptSecurityContext({ credential: front, input: [{ type: F.SECBUFFER_TOKEN, buffer: Buffer.from([0x60, 0x03, 0x06, 0x01, 0x00]) }], contextReq: 0 });
        expect(s.statusName).to.equal('SEC_E_UNSUPPORTED_FUNCTION');
        return;
      }
      const carol = keep(await acquireCredentialsHandle({ package: 'Kerberos', keytab: ldap.userKeytab, principal: ldap.user, forwardable: true }));
      const c = await initializeSecurityContext({ credential: carol, targetName: ldap.front.name, contextReq: REQ });
      if (c.context) contexts.push(c.context);
      expect(c.statusName, c.error?.message).to.equal('SEC_I_CONTINUE_NEEDED');
      const s = await acceptSecurityContext({ credential: front, input: [{ type: F.SECBUFFER_TOKEN, buffer: c.output[0].buffer }], contextReq: 0 });
      if (s.context) contexts.push(s.context);
      expect(s.statusName, s.error?.message).to.equal('SEC_E_OK');
      // carol forwarded no TGT; MIT reports the evidence credential it composed as a delegation all the same.
      expect(s.contextAttr & ASC_RET_DELEGATE).to.equal(ASC_RET_DELEGATE);
      const asCarol = keep(delegatedCredential(s.context!));
      expect(asCarol, 'the evidence ticket as a credential').to.not.equal(undefined);
      expect((await queryCredentialsAttributes(asCarol!, SECPKG_CRED_ATTR_NAMES)).value).to.deep.equal({ userName: ldap.user });

      // Onward to the back end, which our own acceptor checks with its keytab: it sees carol, not the front service.
      const back = keep(await acquireCredentialsHandle({ package: 'Kerberos', credentialUse: SECPKG_CRED_INBOUND, keytab: ldap.back.keytab }));
      const r = await initializeSecurityContext({ credential: asCarol, targetName: ldap.back.name, contextReq: REQ });
      if (r.context) contexts.push(r.context);
      expect(r.statusName, r.error?.message).to.equal('SEC_I_CONTINUE_NEEDED');
      const b = await acceptSecurityContext({ credential: back, input: [{ type: F.SECBUFFER_TOKEN, buffer: r.output[0].buffer }], contextReq: 0 });
      if (b.context) contexts.push(b.context);
      expect(b.statusName, b.error?.message).to.equal('SEC_E_OK');
      expect(queryContextAttributes(b.context!, SECPKG_ATTR_NAMES).value).to.deep.equal({ userName: ldap.user });

      const refused = await initializeSecurityContext({ credential: asCarol, targetName: ldap.other.name, contextReq: REQ });
      expect(refused.statusName, 'a service outside krbAllowedToDelegateTo').to.equal('SEC_E_KDC_INVALID_REQUEST');
      expect(refused.gss?.minor).to.equal(-1765328371);
    } finally {
      contexts.forEach((ctx) => deleteSecurityContext(ctx));
      handles.forEach((h) => freeCredentialsHandle(h));
      process.env.KRB5_CONFIG = saved;
      await ldap.stop();
    }
  });

  it('constrainedDelegation needs a principal and a boolean', async () => {
    await expectAcquireRefused([
      { credentialUse: SECPKG_CRED_INBOUND, keytab: realm.kdc.principals.http.keytab, constrainedDelegation: true },
      { credentialUse: SECPKG_CRED_INBOUND, keytab: realm.kdc.principals.http.keytab, principal: realm.kdc.principals.http.name, constrainedDelegation: 'yes' },
    ] as never);
  });

  it('refuses impersonation without a principal, or with another way to log on', async () => {
    const service = await acquireCredentialsHandle({ keytab: realm.kdc.principals.deleg.keytab, principal: realm.kdc.principals.deleg.name });
    await expectAcquireRefused([{ impersonator: service }, { impersonator: service, principal: 'bob', password: 'x' }, { impersonator: {} as never, principal: 'bob' }]);
    freeCredentialsHandle(service);
  });
});
