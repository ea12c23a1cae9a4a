// docs/security.md: util.inspect and JSON.stringify of results never contain token bytes (an AP-REQ is a credential
// for its lifetime). Every result kind that carries a token, a signature or protected data is printed both ways,
// at full depth, and the bytes it carries must not appear in any form; `.buffer` / `.token` are still the bytes.
import { expect } from 'chai';
import { inspect } from 'node:util';
import {
  ISC_REQ_ALLOCATE_MEMORY, ISC_REQ_CONFIDENTIALITY, ISC_REQ_INTEGRITY, ISC_REQ_MUTUAL_AUTH, NegotiateClient, SECBUFFER_DATA,
  SECBUFFER_PADDING, SECBUFFER_STREAM, SECBUFFER_TOKEN, SECPKG_ATTR_SESSION_KEY, SECPKG_ATTR_SIZES, decryptMessage, deleteSecurityContext,
  encryptMessage, initializeSecurityContext, makeSignature, queryContextAttributes, verifySignature,
} from '../../lib/index.js';
import { PYTHON_GSSAPI_MISSING, PythonAcceptor } from '../harness/python-acceptor.js';
import { realmSuite } from '../harness/realm-suite.js';
import { leakedForms } from '../harness/token-forms.js';
import { needs } from '../harness/skip.js';

const REQ = ISC_REQ_MUTUAL_AUTH | ISC_REQ_CONFIDENTIALITY | ISC_REQ_INTEGRITY;

/** Everything the usual ways of printing show of `value`. */
function printed(value: unknown): string {
  return [inspect(value), inspect(value, { depth: Infinity, showHidden: true }), JSON.stringify(value), String(value)].join('\n');
}

function expectNoBytes(value: unknown, bytes: Uint8Array, what: string): void {
  expect(leakedForms(printed(value), bytes), what).to.deep.equal([]);
}

describe('results print no token bytes (util.inspect, JSON.stringify)', function () {
  this.timeout(30_000);
  const realm = realmSuite({ credential: {} });

  it('initializeSecurityContext: the output token, allocated or placed in the caller\'s buffer', async () => {
    const r = await initializeSecurityContext({ credential: realm.cred, targetName: `HTTP/${realm.kdc.hostname}`, contextReq: REQ });
    try {
      const token = r.output[0].buffer;
      expect(token.length).to.be.greaterThan(100);
      expectNoBytes(r, token, 'result');
      expectNoBytes(r.output, token, 'output');
      expectNoBytes(r.output[0], token, 'output[0]');
      // Type and size are what shows.
      expect(inspect(r.output[0])).to.contain(String(token.length)).and.contain('SECBUFFER_TOKEN');
      expect(JSON.parse(JSON.stringify(r.output[0]))).to.deep.equal({ type: SECBUFFER_TOKEN, size: token.length });
      // The bytes are still there for the caller.
      expect(Buffer.from(token).subarray(0, 1)[0]).to.equal(0x60);
      expect(r.output[0].type).to.equal(SECBUFFER_TOKEN);
    } finally {
      if (r.context) deleteSecurityContext(r.context);
    }
    const space = new Uint8Array(16 * 1024);
    const placed = await initializeSecurityContext({
      credential: realm.cred, targetName: `HTTP/${realm.kdc.hostname}`, contextReq: REQ, output: [{ type: SECBUFFER_TOKEN, buffer: space }],
    });
    try {
      expect(placed.output[0].buffer.buffer).to.equal(space.buffer);
      expectNoBytes(placed, placed.output[0].buffer, 'placed');
    } finally {
      if (placed.context) deleteSecurityContext(placed.context);
    }
  });

  it('the final leg, the session key, and the message calls\' buffers (ciphertext, signatures, plaintext)', async function () {
    // python3-gssapi (from .ci/run) is the peer that protects messages for us to read.
    needs(this, PythonAcceptor.available(), PYTHON_GSSAPI_MISSING);
    const peer = new PythonAcceptor(realm.kdc.env);
    await peer.start(`HTTP@${realm.kdc.hostname}`);
    const first = await initializeSecurityContext({ credential: realm.cred, targetName: `HTTP/${realm.kdc.hostname}`, contextReq: REQ | ISC_REQ_ALLOCATE_MEMORY });
    const context = first.context!;
    try {
      const reply = await peer.step(first.output[0].buffer);
      const last = await initializeSecurityContext({ context, contextReq: REQ | ISC_REQ_ALLOCATE_MEMORY, input: [{ type: SECBUFFER_TOKEN, buffer: reply.token }] });
      expect(last.statusName).to.equal('SEC_E_OK');
      expect(JSON.parse(JSON.stringify(last.output))).to.deep.equal(last.output.map((b) => ({ type: b.type, size: b.buffer.length })));
      if (last.output[0]?.buffer.length >= 16) expectNoBytes(last, last.output[0].buffer, 'final leg');
      if (last.output[0]?.buffer.length) await peer.step(last.output[0].buffer);

      const key = queryContextAttributes(context, SECPKG_ATTR_SESSION_KEY);
      expect(key.value!.sessionKey.length).to.be.oneOf([16, 32]);
      expectNoBytes(key, key.value!.sessionKey, 'SECPKG_ATTR_SESSION_KEY');
      expect(JSON.parse(JSON.stringify(key.value))).to.deep.equal({ keyType: key.value!.keyType, size: key.value!.sessionKey.length });

      const sizes = queryContextAttributes(context, SECPKG_ATTR_SIZES).value!;
      const plaintext = Buffer.from('the quick brown fox jumps over the lazy dog, twice over');
      const sealed = encryptMessage(context, 0, [
        { type: SECBUFFER_TOKEN, buffer: Buffer.alloc(sizes.cbSecurityTrailer) },
        { type: SECBUFFER_DATA, buffer: Buffer.from(plaintext) },
        { type: SECBUFFER_PADDING, buffer: Buffer.alloc(sizes.cbBlockSize) },
      ]);
      expect(sealed.statusName).to.equal('SEC_E_OK');
      expectNoBytes(sealed, sealed.buffers![1].buffer, 'encryptMessage: ciphertext');
      expectNoBytes(sealed, sealed.buffers![0].buffer, 'encryptMessage: trailer');
      expect((await peer.unwrap(Buffer.concat(sealed.buffers!.map((b) => b.buffer)))).data!.equals(plaintext), 'the peer reads it').to.equal(true);

      const wrapped = await peer.wrap(plaintext, true);
      const opened = decryptMessage(context, [{ type: SECBUFFER_STREAM, buffer: wrapped.token }, { type: SECBUFFER_DATA, buffer: new Uint8Array(0) }]);
      expect(opened.statusName).to.equal('SEC_E_OK');
      expect(Buffer.from(opened.buffers![1].buffer).equals(plaintext)).to.equal(true);
      expectNoBytes(opened, plaintext, 'decryptMessage: plaintext');
      expectNoBytes(opened, wrapped.token, 'decryptMessage: the wrapped token');

      const signed = makeSignature(context, 0, [{ type: SECBUFFER_DATA, buffer: plaintext }, { type: SECBUFFER_TOKEN, buffer: Buffer.alloc(sizes.cbMaxSignature) }]);
      expect(signed.statusName).to.equal('SEC_E_OK');
      expectNoBytes(signed, signed.buffers![1].buffer, 'makeSignature: signature');
      expectNoBytes(signed, plaintext, 'makeSignature: data');
      const mic = await peer.mic(plaintext);
      const verified = verifySignature(context, [{ type: SECBUFFER_DATA, buffer: plaintext }, { type: SECBUFFER_TOKEN, buffer: mic.token }]);
      expect(verified.statusName).to.equal('SEC_E_OK');
      expectNoBytes(verified, plaintext, 'verifySignature: data');
    } finally {
      peer.close();
      deleteSecurityContext(context);
    }
  });

  it('NegotiateClient steps', async () => {
    using client = new NegotiateClient({ target: `HTTP/${realm.kdc.hostname}`, credential: realm.cred });
    const step = await client.step();
    expect(step.token).to.be.instanceOf(Buffer);
    expect(step.done).to.equal(false);
    expectNoBytes(step, step.token!, 'NegotiateClient step');
    expect(JSON.parse(JSON.stringify(step))).to.deep.equal({ done: false, token: { size: step.token!.length } });
  });
});
