// How EncryptMessage's and DecryptMessage's buffers are laid out for the provider in use. Windows and the GSS
// provider take TOKEN, DATA, PADDING and read one SECBUFFER_STREAM; Wine wants DATA then TOKEN on both sides and
// under-reports cbSecurityTrailer (49 where 60 are written; docs/platforms.md, "Wine's deviations").
import { SECBUFFER_DATA, SECBUFFER_PADDING, SECBUFFER_STREAM, SECBUFFER_TOKEN, type SecBuffer, type SecPkgContextSizes } from '../../lib/index.js';
import { wine } from './platform.js';

/** EncryptMessage's buffers for `data` (encrypted in place), and how the result goes on the wire. */
export function sealLayout(data: Buffer, sizes: SecPkgContextSizes): { buffers: SecBuffer[]; wire: (out: SecBuffer[]) => Buffer } {
  const wire = (out: SecBuffer[]) => Buffer.concat(out.map((b) => b.buffer));
  if (wine) return { buffers: [{ type: SECBUFFER_DATA, buffer: data }, { type: SECBUFFER_TOKEN, buffer: new Uint8Array(Math.max(sizes.cbSecurityTrailer, 60)) }], wire };
  return {
    buffers: [
      { type: SECBUFFER_TOKEN, buffer: new Uint8Array(sizes.cbSecurityTrailer) },
      { type: SECBUFFER_DATA, buffer: data },
      { type: SECBUFFER_PADDING, buffer: new Uint8Array(sizes.cbBlockSize) },
    ],
    wire,
  };
}

/** DecryptMessage's buffers for a message from the peer (under Wine the token is the last 60 bytes). */
export function openLayout(wire: Buffer): SecBuffer[] {
  if (wine) {
    const cut = wire.length - 60;
    return [{ type: SECBUFFER_DATA, buffer: Buffer.from(wire.subarray(0, cut)) }, { type: SECBUFFER_TOKEN, buffer: Buffer.from(wire.subarray(cut)) }];
  }
  return [{ type: SECBUFFER_STREAM, buffer: Buffer.from(wire) }, { type: SECBUFFER_DATA, buffer: new Uint8Array(0) }];
}
