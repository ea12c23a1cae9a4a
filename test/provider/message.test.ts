// The provider-level suite, part 2: per-message protection against the independent peer, both ways. Runs on Linux
// (GSS-API) and under Wine (secur32.dll) alike; Wine gates: platform.ts.
import { expect } from 'chai';
import {
  ISC_REQ_REPLAY_DETECT, SECQOP_WRAP_NO_ENCRYPT, SECBUFFER_DATA, SECBUFFER_TOKEN,
  SECPKG_ATTR_SIZES, decryptMessage, deleteSecurityContext, encryptMessage, makeSignature, queryContextAttributes,
  verifySignature, type ContextHandle, type SecPkgContextSizes,
} from '../../lib/index.js';
import { REQ, establish } from './establish.js';
import { openLayout, sealLayout as sealLayoutFor } from './layouts.js';
import { openPeer, type Peer } from './peer.js';
import { providerLabel, wine } from './platform.js';
import { providerSuite } from './setup.js';

describe(`provider: message protection (${providerLabel})`, function () {
  this.timeout(60_000);
  const suite = providerSuite();
  let peer: Peer;
  let context: ContextHandle;
  let sizes: SecPkgContextSizes;

  before(async function () {
    peer = await openPeer(suite.realm);
    // Replay detection on, so that a replayed message is refused (below).
    context = (await establish(suite.cred, suite.realm.spn, peer, REQ | ISC_REQ_REPLAY_DETECT)).context;
    const s = queryContextAttributes(context, SECPKG_ATTR_SIZES);
    expect(s.statusName).to.equal('SEC_E_OK');
    sizes = s.value!;
  });
  after(() => {
    peer?.close();
    if (context) deleteSecurityContext(context);
  });

  const sealLayout = (data: Buffer) => sealLayoutFor(data, sizes);

  it('MakeSignature is verified by the peer; the peer\'s MIC is verified here; altered data is SEC_E_MESSAGE_ALTERED', async () => {
    const data = Buffer.from('signed by the provider');
    const signed = makeSignature(context, 0, [{ type: SECBUFFER_DATA, buffer: data }, { type: SECBUFFER_TOKEN, buffer: new Uint8Array(sizes.cbMaxSignature) }]);
    expect(signed.statusName, signed.error?.message).to.equal('SEC_E_OK');
    const mic = signed.buffers![1].buffer;
    expect((await peer.verify(data, mic)).error).to.equal(null);
    expect((await peer.verify(Buffer.from('signed by the provider!'), mic)).error, 'the peer notices altered data').to.be.a('string');

    const theirs = await peer.mic(Buffer.from('signed by the peer'));
    const ok = verifySignature(context, [{ type: SECBUFFER_DATA, buffer: Buffer.from('signed by the peer') }, { type: SECBUFFER_TOKEN, buffer: theirs.token }]);
    expect(ok.statusName, ok.error?.message).to.equal('SEC_E_OK');
    // A MIC of its own for the altered case: the first one's sequence number is used up (replay detection is on).
    const next = await peer.mic(Buffer.from('signed by the peer'));
    const altered = verifySignature(context, [{ type: SECBUFFER_DATA, buffer: Buffer.from('signed by the peer?') }, { type: SECBUFFER_TOKEN, buffer: next.token }]);
    expect(altered.statusName).to.equal('SEC_E_MESSAGE_ALTERED');
  });

  for (const length of [1, 17, 1024, 65_536]) {
    it(`EncryptMessage of ${length} bytes, in place, is read by the peer; the peer's sealed message opens here`, async () => {
      const secret = Buffer.alloc(length, 'sealed ');
      const data = Buffer.from(secret);
      const { buffers, wire } = sealLayout(data);
      const sealed = encryptMessage(context, 0, buffers);
      expect(sealed.statusName, sealed.error?.message).to.equal('SEC_E_OK');
      const onWire = wire(sealed.buffers!);
      // (A message shorter than a block may meet itself in the ciphertext by chance: the peer's `encrypted` says it.)
      if (length >= 16) expect(onWire.includes(secret), 'the data is encrypted').to.equal(false);
      const read = await peer.unwrap(onWire);
      expect(read.error, 'the peer reads the message').to.equal(null);
      expect(read.encrypted).to.equal(true);
      expect(read.data!.equals(secret)).to.equal(true);

      const theirs = await peer.wrap(secret, true);
      const opened = decryptMessage(context, openLayout(theirs.token));
      expect(opened.statusName, opened.error?.message).to.equal('SEC_E_OK');
      const plain = opened.buffers!.find((b) => b.type === SECBUFFER_DATA)!;
      expect(Buffer.from(plain.buffer).equals(secret)).to.equal(true);
    });
  }

  it('a sealed message altered in transit is SEC_E_MESSAGE_ALTERED, and the context stays usable', async () => {
    const theirs = await peer.wrap(Buffer.from('do not touch'), true);
    const bad = Buffer.from(theirs.token);
    bad[bad.length - 20] ^= 0x01;
    const opened = decryptMessage(context, openLayout(bad));
    expect(opened.statusName).to.equal('SEC_E_MESSAGE_ALTERED');
    const next = await peer.wrap(Buffer.from('the next one'), true);
    const ok = decryptMessage(context, openLayout(next.token));
    expect(ok.statusName, ok.error?.message).to.equal('SEC_E_OK');
  });

  it('integrity only with SECQOP_WRAP_NO_ENCRYPT: the peer reads it as not encrypted; its unencrypted wrap gives the QOP back', async () => {
    const plain = Buffer.from('readable but protected');
    const data = Buffer.from(plain);
    const { buffers, wire } = sealLayout(data);
    const sealed = encryptMessage(context, SECQOP_WRAP_NO_ENCRYPT, buffers);
    expect(sealed.statusName, sealed.error?.message).to.equal('SEC_E_OK');
    // Wine copies the first bytes of gss_wrap's output (the token header, then the data) into the DATA buffer and
    // the rest into TOKEN (seal_message_no_vector in dlls/kerberos/unixlib.c): the message on the wire is right,
    // but the DATA buffer does not keep the plaintext as Windows' and the GSS provider's do.
    if (!wine) expect(data.equals(plain), 'not encrypted, in place').to.equal(true);
    const read = await peer.unwrap(wire(sealed.buffers!));
    expect(read.error).to.equal(null);
    expect(read.encrypted).to.equal(false);
    expect(read.data!.equals(plain)).to.equal(true);
    const theirs = await peer.wrap(plain, false);
    const opened = decryptMessage(context, openLayout(theirs.token));
    expect(opened.statusName, opened.error?.message).to.equal('SEC_E_OK');
    expect(opened.qop).to.equal(SECQOP_WRAP_NO_ENCRYPT);
  });

  it('a replayed message is refused (SEC_E_OUT_OF_SEQUENCE; Wine: SEC_E_INVALID_TOKEN)', async () => {
    const once = (await peer.wrap(Buffer.from('only once'), true)).token;
    expect(decryptMessage(context, openLayout(once)).statusName).to.equal('SEC_E_OK');
    const again = decryptMessage(context, openLayout(once));
    // Wine maps GSS_S_DUPLICATE_TOKEN to SEC_E_INVALID_TOKEN (status_gss_to_sspi in dlls/kerberos/unixlib.c);
    // Windows and the GSS provider say SEC_E_OUT_OF_SEQUENCE.
    expect(again.statusName).to.equal(wine ? 'SEC_E_INVALID_TOKEN' : 'SEC_E_OUT_OF_SEQUENCE');
  });

  it('message calls on a deleted context are SEC_E_INVALID_HANDLE', async () => {
    const peer2 = await openPeer(suite.realm);
    try {
      const { context: gone } = await establish(suite.cred, suite.realm.spn, peer2);
      deleteSecurityContext(gone);
      const data = [{ type: SECBUFFER_DATA, buffer: Buffer.from('x') }, { type: SECBUFFER_TOKEN, buffer: new Uint8Array(sizes.cbMaxSignature) }];
      expect(makeSignature(gone, 0, data).statusName).to.equal('SEC_E_INVALID_HANDLE');
      expect(encryptMessage(gone, 0, sealLayout(Buffer.from('x')).buffers).statusName).to.equal('SEC_E_INVALID_HANDLE');
    } finally {
      peer2.close();
    }
  });
});
