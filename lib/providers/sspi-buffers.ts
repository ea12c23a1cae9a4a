// SecBufferDesc marshalling for the SSPI provider (sspi.h layouts): native copies for calls that run on the pool,
// the caller's own memory for the synchronous message calls.
import koffi from 'koffi';
import { copyOut } from '../../ffi/memory.js';
import { SECBUFFER_VERSION, SecBuffer, SecBufferDesc } from '../../ffi/secur32.js';
import type { MessageBuffer } from './provider.js';

/** A SecBufferDesc over native copies of `buffers` (so a call on the pool never sees JS memory move). */
export class NativeDesc {
  readonly desc: unknown;
  private readonly array: unknown;
  private readonly data: unknown[];

  constructor(readonly buffers: Array<{ type: number; bytes: Uint8Array; capacity?: number }>) {
    this.array = koffi.alloc(SecBuffer, Math.max(1, buffers.length));
    this.data = buffers.map((b) => {
      const size = Math.max(b.capacity ?? b.bytes.byteLength, 1);
      const p = koffi.alloc('uint8_t', size);
      if (b.bytes.byteLength) koffi.encode(p, koffi.array('uint8_t', b.bytes.byteLength), b.bytes);
      return p;
    });
    buffers.forEach((b, i) => {
      koffi.encode(this.array, i * koffi.sizeof(SecBuffer), SecBuffer, {
        cbBuffer: b.capacity ?? b.bytes.byteLength, BufferType: b.type >>> 0, pvBuffer: this.data[i],
      });
    });
    this.desc = koffi.alloc(SecBufferDesc, 1);
    koffi.encode(this.desc, SecBufferDesc, { ulVersion: SECBUFFER_VERSION, cBuffers: buffers.length, pBuffers: this.array });
  }

  /** The buffers after the call: type and length as SSPI left them, bytes copied out. */
  read(): Array<{ type: number; bytes: Buffer }> {
    return this.buffers.map((_, i) => {
      const b = koffi.decode(this.array, i * koffi.sizeof(SecBuffer), SecBuffer) as { cbBuffer: number; BufferType: number; pvBuffer: unknown };
      return { type: b.BufferType, bytes: copyOut(b.pvBuffer as bigint, b.cbBuffer) };
    });
  }

  free(): void {
    for (const p of this.data) koffi.free(p);
    koffi.free(this.array);
    koffi.free(this.desc);
  }
}

/**
 * A SecBufferDesc over the caller's own memory, for the synchronous message calls: SSPI reads and writes the
 * buffers in place, as it does in C, with no copy in or out. Afterwards each SecBuffer's pointer is mapped back into
 * the caller's buffer that holds it: DecryptMessage with a SECBUFFER_STREAM points the DATA buffer into the stream.
 */
export class InPlaceDesc {
  readonly desc: unknown;
  private readonly array: unknown;
  private readonly bases: Array<bigint | null>;

  constructor(private readonly buffers: MessageBuffer[]) {
    this.array = koffi.alloc(SecBuffer, Math.max(1, buffers.length));
    this.bases = buffers.map((b) => (b.buffer.byteLength ? (koffi.address(b.buffer) as bigint) : null));
    buffers.forEach((b, i) => {
      koffi.encode(this.array, i * koffi.sizeof(SecBuffer), SecBuffer, { cbBuffer: b.buffer.byteLength, BufferType: b.type >>> 0, pvBuffer: this.bases[i] });
    });
    this.desc = koffi.alloc(SecBufferDesc, 1);
    koffi.encode(this.desc, SecBufferDesc, { ulVersion: SECBUFFER_VERSION, cBuffers: buffers.length, pBuffers: this.array });
  }

  /** The buffers as SSPI left them: views of the caller's memory (a copy only if SSPI pointed elsewhere). */
  read(): MessageBuffer[] {
    return this.buffers.map((_, i) => {
      const b = koffi.decode(this.array, i * koffi.sizeof(SecBuffer), SecBuffer) as { cbBuffer: number; BufferType: number; pvBuffer: unknown };
      const at = b.pvBuffer ? BigInt(koffi.address(b.pvBuffer) as bigint) : null;
      if (at === null || b.cbBuffer === 0) return { type: b.BufferType, buffer: this.buffers[i].buffer.subarray(0, 0) };
      for (let j = 0; j < this.buffers.length; j++) {
        const base = this.bases[j];
        const caller = this.buffers[j].buffer;
        if (base !== null && at >= base && at + BigInt(b.cbBuffer) <= base + BigInt(caller.byteLength)) {
          const start = Number(at - base);
          return { type: b.BufferType, buffer: caller.subarray(start, start + b.cbBuffer) };
        }
      }
      return { type: b.BufferType, buffer: copyOut(at, b.cbBuffer) };
    });
  }

  free(): void {
    koffi.free(this.array);
    koffi.free(this.desc);
  }
}
