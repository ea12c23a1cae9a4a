// NegotiateClient, the idiomatic layer, against the real KDC and acceptor.
import { expect } from 'chai';
import { ISC_RET_MUTUAL_AUTH, NegotiateClient, SecurityError, toBase64 } from '../../lib/index.js';
import { encodeNegTokenResp } from '../../lib/protocol/index.js';
import { newAcceptor } from '../harness/acceptor.js';
import { isHeimdal } from '../harness/flavour.js';
import { KERBEROS_ADDON, realmSuite } from '../harness/realm-suite.js';

describe('NegotiateClient', function () {
  this.timeout(60_000);
  const realm = realmSuite({ needs: [KERBEROS_ADDON] });

  it('authenticates with mutual authentication required by default, taking base64 replies', async () => {
    const acceptor = await newAcceptor();
    using client = new NegotiateClient({ target: `HTTP/${realm.kdc.hostname}` });
    const first = await client.step();
    expect(first.done).to.equal(false);
    const reply = await acceptor.step(first.token!);
    const last = await client.step(toBase64(reply));
    expect(last.done).to.equal(true);
    expect(client.done).to.equal(true);
    expect(client.contextAttr & ISC_RET_MUTUAL_AUTH).to.equal(ISC_RET_MUTUAL_AUTH);
    expect(client.expiry).to.be.instanceOf(Date);
    expect(acceptor.username).to.equal(realm.kdc.principals.alice.name);
  });

  it('throws SecurityError with the status and GSS details for an unknown SPN', async () => {
    using client = new NegotiateClient({ target: `HTTP/missing.${realm.kdc.hostname}` });
    let caught: unknown;
    try {
      await client.step();
    } catch (err) {
      caught = err;
    }
    expect(caught).to.be.instanceOf(SecurityError);
    const err = caught as SecurityError;
    expect(err.statusName).to.equal('SEC_E_TARGET_UNKNOWN');
    expect(err.code).to.equal('0x80090303');
    expect(err.gss!.minor).to.equal(-1765328377);
    expect(err.message).to.match(isHeimdal() ? /Server not found in Kerberos database|KRB5KDC_ERR_S_PRINCIPAL_UNKNOWN/ : /Server not found in Kerberos database/);
  });

  it('throws when the server completes without proving itself', async () => {
    using client = new NegotiateClient({ target: `HTTP/${realm.kdc.hostname}` });
    await client.step();
    const unproven = encodeNegTokenResp({ negState: 'accept-completed', supportedMech: '1.2.840.113554.1.2.2' });
    let caught: unknown;
    try {
      await client.step(unproven);
    } catch (err) {
      caught = err;
    }
    expect((caught as SecurityError).statusName).to.equal('SEC_E_MUTUAL_AUTH_FAILED');
  });

  it('does not ask for mutual authentication with mutual: "none"', async () => {
    const acceptor = await newAcceptor();
    using client = new NegotiateClient({ target: `HTTP@${realm.kdc.hostname}`, mutual: 'none' });
    const first = await client.step();
    const reply = await acceptor.step(first.token!);
    const last = await client.step(reply);
    expect(last.done).to.equal(true);
    expect(client.contextAttr & ISC_RET_MUTUAL_AUTH).to.equal(0);
  });

  it('refuses bad options with TypeError', () => {
    expect(() => new NegotiateClient({ target: '' })).to.throw(TypeError);
    expect(() => new NegotiateClient({ target: 'HTTP/x', mutual: 'maybe' as never })).to.throw(TypeError);
    expect(() => new NegotiateClient({ target: 'HTTP/x', channelBindings: 'abc' as never })).to.throw(TypeError);
  });
});
