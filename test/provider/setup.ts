// What every provider-level test file starts from: skipped where no peer can run, the realm, and a Negotiate
// credential of the default user (alice), freed after the file. Call it in the describe block; the fields are set
// once its `before` has run.
import { acquireCredentialsHandle, freeCredentialsHandle, type CredentialsHandle } from '../../lib/index.js';
import { PYTHON_GSSAPI_MISSING } from '../harness/python-acceptor.js';
import { needs } from '../harness/skip.js';
import { peerAvailable } from './peer.js';
import { realm, type Realm } from './realm.js';

export interface ProviderSuite {
  realm: Realm;
  cred: CredentialsHandle;
}

export function providerSuite(): ProviderSuite {
  const suite = {} as ProviderSuite;
  before(async function () {
    // Linux: Debian's python3-gssapi is the peer (.ci/run installs it). Under Wine the bridge is always there.
    needs(this, peerAvailable(), PYTHON_GSSAPI_MISSING);
    suite.realm = await realm();
    suite.cred = await acquireCredentialsHandle({ package: 'Negotiate' });
  });
  after(() => suite.cred && freeCredentialsHandle(suite.cred));
  return suite;
}
