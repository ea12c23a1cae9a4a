// The provider-level suite, part 5: a password handle outlives its first ticket. On GSS-API the handle renews its
// TGT (a password callback logs on again when it must; docs/service-identity.md); on Windows, LSA keeps the
// credentials a password handle was given and gets new tickets itself (docs/platforms.md). Wine: platform.ts.
import { expect } from 'chai';
import {
  acquireCredentialsHandle, deleteSecurityContext, freeCredentialsHandle, initializeSecurityContext, type CredentialsHandle,
} from '../../lib/index.js';
import { REQ, establish } from './establish.js';
import { openPeer } from './peer.js';
import { providerLabel, wine } from './platform.js';
import { providerSuite } from './setup.js';

describe(`provider: a password handle past its ticket's lifetime (${providerLabel})`, function () {
  this.timeout(60_000);
  const suite = providerSuite();

  async function who(cred: CredentialsHandle): Promise<string | null> {
    const peer = await openPeer(suite.realm);
    try {
      const e = await establish(cred, suite.realm.spn, peer);
      deleteSecurityContext(e.context);
      return e.user;
    } finally {
      peer.close();
    }
  }

  it('authenticates before and after its first ticket expired (the lifetime cut to seconds at the KDC)', async () => {
    const { name, password, lifeS } = suite.realm.shortLived;
    const cred = await acquireCredentialsHandle({ package: 'Negotiate', principal: name, password: async () => Buffer.from(password) });
    try {
      const started = Date.now();
      expect(await who(cred)).to.equal(name);
      // Past the first ticket's end: a time that must pass, not a race.
      await new Promise((resolve) => setTimeout(resolve, lifeS * 1000 + 2000 - (Date.now() - started)));
      // The first leg says whether the handle still has a TGT; the whole exchange, who the peer sees.
      const first = await initializeSecurityContext({ credential: cred, targetName: suite.realm.spn, contextReq: REQ });
      if (first.context) deleteSecurityContext(first.context);
      if (wine) {
        // Wine's Kerberos package logs on once into the default ccache and never again (dlls/kerberos/unixlib.c):
        // past the ticket's end its InitializeSecurityContext fails (observed), where Windows' LSA gets a new TGT.
        expect(first.statusName, 'Wine, past the first ticket').to.equal('SEC_E_INTERNAL_ERROR');
        return;
      }
      expect(first.statusName, first.error?.message).to.equal('SEC_I_CONTINUE_NEEDED');
      expect(await who(cred)).to.equal(name);
    } finally {
      freeCredentialsHandle(cred);
    }
  });
});
