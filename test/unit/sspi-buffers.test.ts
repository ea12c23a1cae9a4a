// The SSPI provider's SecBufferDesc marshalling (lib/providers/sspi-buffers.ts), checked on any OS by playing the
// part of secur32.dll: the test writes into the SecBuffer array what SSPI writes (the DecryptMessage of a
// SECBUFFER_STREAM points DATA into the stream), then reads the result as the provider does.
import { expect } from 'chai';
import koffi from 'koffi';
import { SecBuffer, SecBufferDesc } from '../../ffi/secur32.js';
import { SECBUFFER_DATA, SECBUFFER_STREAM, SECBUFFER_STREAM_HEADER, SECBUFFER_TOKEN } from '../../lib/index.js';
import { InPlaceDesc, NativeDesc } from '../../lib/providers/sspi-buffers.js';

/** Writes SecBuffer `i` of `desc` as SSPI would. */
function sspiWrites(desc: unknown, i: number, value: { cbBuffer: number; BufferType: number; pvBuffer: bigint | null }): void {
  const d = koffi.decode(desc, SecBufferDesc) as { cBuffers: number; pBuffers: unknown };
  expect(i).to.be.lessThan(d.cBuffers);
  koffi.encode(d.pBuffers, i * koffi.sizeof(SecBuffer), SecBuffer, value);
}

/** What the desc hands SSPI for buffer `i`. */
function sspiSees(desc: unknown, i: number): { cbBuffer: number; BufferType: number; pvBuffer: unknown } {
  const d = koffi.decode(desc, SecBufferDesc) as { pBuffers: unknown };
  return koffi.decode(d.pBuffers, i * koffi.sizeof(SecBuffer), SecBuffer) as { cbBuffer: number; BufferType: number; pvBuffer: unknown };
}

describe('SecBufferDesc marshalling (sspi-buffers.ts)', () => {
  it('message calls: SSPI gets the caller\'s own memory, and what it writes there is the caller\'s', () => {
    const token = new Uint8Array(60);
    const data = Buffer.from('plaintext, encrypted in place');
    const desc = new InPlaceDesc([{ type: SECBUFFER_TOKEN, buffer: token }, { type: SECBUFFER_DATA, buffer: data }]);
    try {
      const seen = sspiSees(desc.desc, 1);
      expect(seen.cbBuffer).to.equal(data.length);
      expect(koffi.address(seen.pvBuffer)).to.equal(koffi.address(data));
      // SSPI encrypts DATA in place and writes a 44-byte token.
      const view = koffi.decode(seen.pvBuffer, koffi.array('uint8_t', data.length)) as Uint8Array;
      expect(Buffer.from(view).toString()).to.equal(data.toString());
      sspiWrites(desc.desc, 0, { cbBuffer: 44, BufferType: SECBUFFER_TOKEN, pvBuffer: koffi.address(token) as bigint });
      const out = desc.read();
      expect(out[0].buffer.buffer, 'a view of the caller\'s token buffer').to.equal(token.buffer);
      expect(out[0].buffer.length).to.equal(44);
      expect(out[1].buffer.buffer).to.equal(data.buffer);
      expect(out[1].buffer.length).to.equal(data.length);
    } finally {
      desc.free();
    }
  });

  it('DecryptMessage of a STREAM: the DATA buffer comes back as the part of the stream SSPI points to', () => {
    const stream = Buffer.alloc(100, 0x11);
    stream.write('the plaintext', 16);
    const desc = new InPlaceDesc([{ type: SECBUFFER_STREAM, buffer: stream }, { type: SECBUFFER_DATA, buffer: new Uint8Array(0) }]);
    try {
      expect(sspiSees(desc.desc, 1).pvBuffer, 'an empty buffer is passed as NULL').to.equal(null);
      const base = koffi.address(stream) as bigint;
      sspiWrites(desc.desc, 0, { cbBuffer: 16, BufferType: SECBUFFER_STREAM_HEADER, pvBuffer: base });
      sspiWrites(desc.desc, 1, { cbBuffer: 13, BufferType: SECBUFFER_DATA, pvBuffer: base + 16n });
      const out = desc.read();
      expect(out[0].type).to.equal(SECBUFFER_STREAM_HEADER);
      expect(out[1].type).to.equal(SECBUFFER_DATA);
      expect(out[1].buffer.buffer, 'a view into the stream, not a copy').to.equal(stream.buffer);
      expect(Buffer.from(out[1].buffer).toString()).to.equal('the plaintext');
    } finally {
      desc.free();
    }
  });

  it('a pointer outside the caller\'s buffers is copied out; NULL or zero length reads as empty', () => {
    const elsewhere = koffi.alloc('uint8_t', 8);
    koffi.encode(elsewhere, koffi.array('uint8_t', 8), [1, 2, 3, 4, 5, 6, 7, 8]);
    const a = new Uint8Array(4);
    const desc = new InPlaceDesc([{ type: SECBUFFER_TOKEN, buffer: a }, { type: SECBUFFER_DATA, buffer: new Uint8Array(4) }]);
    try {
      sspiWrites(desc.desc, 0, { cbBuffer: 8, BufferType: SECBUFFER_TOKEN, pvBuffer: koffi.address(elsewhere) as bigint });
      sspiWrites(desc.desc, 1, { cbBuffer: 0, BufferType: SECBUFFER_DATA, pvBuffer: null });
      const out = desc.read();
      expect([...out[0].buffer]).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8]);
      expect(out[1].buffer.length).to.equal(0);
    } finally {
      desc.free();
      koffi.free(elsewhere);
    }
  });

  it('pool calls: native copies with the capacity asked for, read back as SSPI left them', () => {
    const input = Buffer.from('a token from the peer');
    const desc = new NativeDesc([{ type: SECBUFFER_TOKEN, bytes: input }, { type: SECBUFFER_TOKEN, bytes: new Uint8Array(0), capacity: 1000 }]);
    try {
      const seen = [sspiSees(desc.desc, 0), sspiSees(desc.desc, 1)];
      expect(koffi.address(seen[0].pvBuffer)).to.not.equal(koffi.address(input));
      expect(seen[1].cbBuffer).to.equal(1000);
      // SSPI writes a 5-byte token into the output buffer.
      koffi.encode(seen[1].pvBuffer, koffi.array('uint8_t', 5), [0x60, 1, 2, 3, 4]);
      sspiWrites(desc.desc, 1, { cbBuffer: 5, BufferType: SECBUFFER_TOKEN, pvBuffer: koffi.address(seen[1].pvBuffer) as bigint });
      const out = desc.read();
      expect(out[0].bytes.equals(input)).to.equal(true);
      expect([...out[1].bytes]).to.deep.equal([0x60, 1, 2, 3, 4]);
    } finally {
      desc.free();
    }
  });
});
