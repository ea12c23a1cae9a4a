// Delegation as on Windows: ISC_REQ_DELEGATE forwards the TGT only to targets the KDC marks ok-as-delegate; the
// explicit `unconstrained` choice forwards it anywhere. The proof is end to end: the acceptor uses what it received
// to authenticate to a third service as the client.
import { expect } from 'chai';
import { deleteSecurityContext, initializeSecurityContext } from '../../lib/index.js';
import * as F from '../../lib/vocabulary/flags.js';
import { PythonAcceptor } from '../harness/python-acceptor.js';
import { PYTHON_GSSAPI, realmSuite } from '../harness/realm-suite.js';

const REQ = F.ISC_REQ_MUTUAL_AUTH | F.ISC_REQ_INTEGRITY;

describe('delegation', function () {
  this.timeout(60_000);
  // python3-gssapi (installed by .ci/run) is the acceptor that receives and uses the delegated TGT.
  const realm = realmSuite({ needs: [PYTHON_GSSAPI], credential: {} });

  /** Authenticates to `host` (keytab `keytab`) and reports ISC_RET_DELEGATE and what the acceptor received. */
  async function authenticate(host: string, keytab: string, contextReq: number, delegation?: 'policy' | 'unconstrained') {
    const peer = new PythonAcceptor({ ...realm.kdc.env, KRB5_KTNAME: `FILE:${keytab}` });
    try {
      await peer.start(`HTTP@${host}`);
      let r = await initializeSecurityContext({ credential: realm.cred, targetName: `HTTP/${host}`, contextReq, delegation });
      const context = r.context!;
      while (r.statusName === 'SEC_I_CONTINUE_NEEDED') {
        const s = await peer.step(r.output[0].buffer);
        expect(s.error).to.equal(null);
        r = await initializeSecurityContext({ context, contextReq, input: [{ type: F.SECBUFFER_TOKEN, buffer: s.token }] });
      }
      expect(r.statusName, r.error?.message).to.equal('SEC_E_OK');
      deleteSecurityContext(context);
      const delegated = (await peer.delegated()).user;
      let onward: string | null = null;
      if (delegated) {
        // The acceptor reaches a third service with the client's delegated TGT; that service sees the client.
        const token = (await peer.forward(`HTTP@other.${realm.kdc.domain}`)).token;
        const third = new PythonAcceptor({ ...realm.kdc.env, KRB5_KTNAME: `FILE:${realm.kdc.principals.other.keytab}` });
        try {
          await third.start(`HTTP@other.${realm.kdc.domain}`);
          onward = (await third.step(token)).user;
        } finally {
          third.close();
        }
      }
      return { granted: (r.contextAttr & F.ISC_RET_DELEGATE) !== 0, delegated, onward };
    } finally {
      peer.close();
    }
  }

  const deleg = () => `deleg.${realm.kdc.domain}`;

  it('delegates to an ok-as-delegate target, and the acceptor reaches a third service as the client', async () => {
    const r = await authenticate(deleg(), realm.kdc.principals.deleg.keytab!, REQ | F.ISC_REQ_DELEGATE);
    expect(r).to.deep.equal({ granted: true, delegated: realm.kdc.principals.alice.name, onward: realm.kdc.principals.alice.name });
  });

  it('does not delegate to a target the KDC does not trust for delegation', async () => {
    const r = await authenticate(realm.kdc.hostname, realm.kdc.principals.http.keytab!, REQ | F.ISC_REQ_DELEGATE);
    expect(r).to.deep.equal({ granted: false, delegated: null, onward: null });
  });

  it('delegates anywhere only when asked for unconstrained delegation', async () => {
    const r = await authenticate(realm.kdc.hostname, realm.kdc.principals.http.keytab!, REQ | F.ISC_REQ_DELEGATE, 'unconstrained');
    expect(r).to.deep.equal({ granted: true, delegated: realm.kdc.principals.alice.name, onward: realm.kdc.principals.alice.name });
  });

  it('does not delegate without ISC_REQ_DELEGATE, even to an ok-as-delegate target', async () => {
    const r = await authenticate(deleg(), realm.kdc.principals.deleg.keytab!, REQ, 'unconstrained');
    expect(r).to.deep.equal({ granted: false, delegated: null, onward: null });
  });
});
