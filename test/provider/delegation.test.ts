// The provider-level suite, part 4: delegation, proven end to end (the peer uses what it received to reach a third
// service as the client). Runs on Linux (GSS-API) and under Wine (secur32.dll) alike; gates: platform.ts.
import { expect } from 'chai';
import {
  ISC_REQ_DELEGATE, ISC_REQ_INTEGRITY, ISC_REQ_MUTUAL_AUTH, ISC_RET_DELEGATE, SECBUFFER_TOKEN, deleteSecurityContext,
  initializeSecurityContext,
} from '../../lib/index.js';
import { establish } from './establish.js';
import { openPeer } from './peer.js';
import { providerLabel, wine, windows } from './platform.js';
import type { ServiceKey } from './realm.js';
import { providerSuite } from './setup.js';

const REQ = ISC_REQ_MUTUAL_AUTH | ISC_REQ_INTEGRITY;

describe(`provider: delegation (${providerLabel})`, function () {
  this.timeout(60_000);
  const suite = providerSuite();

  /** Authenticates to the service `key` names; reports ISC_RET_DELEGATE, who was delegated and who the third service saw. */
  async function authenticate(key: ServiceKey, contextReq: number) {
    const peer = await openPeer(suite.realm, { key });
    try {
      const e = await establish(suite.cred, `HTTP/${suite.realm.host(key)}`, peer, contextReq);
      deleteSecurityContext(e.context);
      const delegated = (await peer.delegated()).user;
      let onward: string | null = null;
      if (delegated) {
        const token = (await peer.forward(`HTTP@${suite.realm.host('other')}`)).token;
        const third = await openPeer(suite.realm, { key: 'other' });
        try {
          onward = (await third.step(token)).user;
        } finally {
          third.close();
        }
      }
      return { granted: (e.contextAttr & ISC_RET_DELEGATE) !== 0, delegated, onward };
    } finally {
      peer.close();
    }
  }

  it('ISC_REQ_DELEGATE to an ok-as-delegate target: the peer reaches a third service as alice', async () => {
    expect(await authenticate('deleg', REQ | ISC_REQ_DELEGATE)).to.deep.equal({ granted: true, delegated: suite.realm.alice, onward: suite.realm.alice });
  });

  it('ISC_REQ_DELEGATE to a target the KDC does not trust for delegation: nothing is delegated (Wine: delegated)', async () => {
    const outcome = await authenticate('http', REQ | ISC_REQ_DELEGATE);
    // Wine passes ISC_REQ_DELEGATE to MIT as GSS_C_DELEG_FLAG, which forwards the TGT to any target: it ignores
    // ok-as-delegate, where Windows (and the GSS provider, with GSS_C_DELEG_POLICY_FLAG) honour it.
    if (wine) expect(outcome).to.deep.equal({ granted: true, delegated: suite.realm.alice, onward: suite.realm.alice });
    else expect(outcome).to.deep.equal({ granted: false, delegated: null, onward: null });
  });

  it('without ISC_REQ_DELEGATE nothing is delegated, even to an ok-as-delegate target', async () => {
    expect(await authenticate('deleg', REQ)).to.deep.equal({ granted: false, delegated: null, onward: null });
  });

  it('delegation "unconstrained": forwarded anywhere on GSS-API; refused on Windows, which has no such choice', async () => {
    if (!windows) {
      const peer = await openPeer(suite.realm);
      try {
        let x = await initializeSecurityContext({ credential: suite.cred, targetName: suite.realm.spn, contextReq: REQ | ISC_REQ_DELEGATE, delegation: 'unconstrained' });
        const s = await peer.step(x.output[0].buffer);
        x = await initializeSecurityContext({ context: x.context, contextReq: REQ | ISC_REQ_DELEGATE, input: [{ type: SECBUFFER_TOKEN, buffer: s.token }] });
        expect(x.statusName).to.equal('SEC_E_OK');
        expect((await peer.delegated()).user).to.equal(suite.realm.alice);
        deleteSecurityContext(x.context!);
      } finally {
        peer.close();
      }
      return;
    }
    const refused = await initializeSecurityContext({ credential: suite.cred, targetName: suite.realm.spn, contextReq: REQ | ISC_REQ_DELEGATE, delegation: 'unconstrained' });
    expect(refused.statusName).to.equal('SEC_E_UNSUPPORTED_FUNCTION');
    expect(refused.error?.message).to.contain('ok-as-delegate');
  });
});
