// NegotiateClient in every state a caller can put it in: concurrent steps, a step after dispose, dispose during a
// step, a token after completion. Each used to leak a credential or a context, or to start a new authentication
// silently; the native credentials and contexts are counted. Clients without a credential share the process's
// default handle, and never acquire one of their own.
import { expect } from 'chai';
import { NegotiateClient, SecurityError } from '../../lib/index.js';
import { liveNativeStates } from '../../lib/facade/handles.js';
import { liveGssCredentials } from '../../lib/providers/gssapi-native.js';
import { newAcceptor } from '../harness/acceptor.js';
import { realmSuite } from '../harness/realm-suite.js';

/** The SecurityError (or other error) a promise rejects with; fails the test if it resolves. */
async function rejection(work: Promise<unknown>): Promise<SecurityError> {
  try {
    await work;
  } catch (err) {
    return err as SecurityError;
  }
  throw new Error('expected a rejection');
}

/** Lets FinalizationRegistry-free releases queued on the contexts run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('NegotiateClient states', function () {
  this.timeout(60_000);
  const realm = realmSuite();
  let target: string;

  before(async () => {
    target = realm.spn;
    // The process-wide default handle (default-credential.ts) exists from here on: the counts below exclude it.
    const warm = new NegotiateClient({ target });
    await warm.step();
    warm.dispose();
  });

  it('concurrent first steps run one after the other on one credential and one context, then the second is refused', async () => {
    const before = liveNativeStates();
    const client = new NegotiateClient({ target });
    const results = await Promise.allSettled([client.step(), client.step()]);
    expect(results[0].status).to.equal('fulfilled');
    // The second call, queued behind the first, finds a continuing context and no server token.
    expect(results[1].status).to.equal('rejected');
    expect(((results[1] as PromiseRejectedResult).reason as SecurityError).statusName).to.equal('SEC_E_INVALID_TOKEN');
    expect(liveNativeStates().credentials - before.credentials, 'the shared default credential, no new one').to.equal(0);
    expect(liveNativeStates().contexts - before.contexts, 'one context').to.equal(1);
    // The exchange still completes.
    const acceptor = await newAcceptor();
    const reply = await acceptor.step((results[0] as PromiseFulfilledResult<{ token?: Buffer }>).value.token!);
    expect((await client.step(reply)).done).to.equal(true);
    client.dispose();
    await settle();
    expect(liveNativeStates()).to.deep.equal(before);
  });

  it('clients without a credential share one default handle: 20 authentications acquire no credential', async () => {
    const before = liveNativeStates();
    const gssBefore = liveGssCredentials();
    for (let i = 0; i < 20; i++) {
      const acceptor = await newAcceptor();
      using client = new NegotiateClient({ target });
      const first = await client.step();
      expect((await client.step(await acceptor.step(first.token!))).done).to.equal(true);
      expect(liveNativeStates().credentials, `authentication ${i}`).to.equal(before.credentials);
    }
    await settle();
    expect(liveNativeStates()).to.deep.equal(before);
    expect(liveGssCredentials(), 'no native credential acquired either').to.equal(gssBefore);
  });

  it('a step after dispose is SEC_E_INVALID_HANDLE and acquires nothing', async () => {
    const before = liveNativeStates();
    const client = new NegotiateClient({ target });
    await client.step();
    client.dispose();
    const err = await rejection(client.step());
    expect(err).to.be.instanceOf(SecurityError);
    expect(err.statusName).to.equal('SEC_E_INVALID_HANDLE');
    await settle();
    expect(liveNativeStates()).to.deep.equal(before);
  });

  it('dispose during the first step: the step rejects, and its context and credential are freed', async () => {
    const before = liveNativeStates();
    const client = new NegotiateClient({ target });
    const running = client.step();
    client.dispose();
    expect((await rejection(running)).statusName).to.equal('SEC_E_INVALID_HANDLE');
    expect(client.context).to.equal(undefined);
    await settle();
    expect(liveNativeStates()).to.deep.equal(before);
  });

  it('a token after completion is SEC_E_INVALID_TOKEN, and the client stays done', async () => {
    const acceptor = await newAcceptor();
    using client = new NegotiateClient({ target });
    const first = await client.step();
    const reply = await acceptor.step(first.token!);
    expect((await client.step(reply)).done).to.equal(true);
    expect((await rejection(client.step(reply))).statusName).to.equal('SEC_E_INVALID_TOKEN');
    expect(client.done).to.equal(true);
    expect((await rejection(client.step())).statusName).to.equal('SEC_E_INVALID_HANDLE');
  });
});
