// Native memory into JS: the one copy helper both backends (GSS-API and secur32) use.
import koffi from 'koffi';

/**
 * Copies `length` bytes at `ptr` into a Buffer that JS owns (a view would dangle once the library frees it).
 * koffi.decode copies; koffi.view is avoided: in koffi 3.3.4 each view leaked about 200 bytes (measured by
 * scripts/soak.ts: +10 MB RSS over 50k signatures).
 */
export function copyOut(ptr: bigint | null, length: number): Buffer {
  if (!ptr || length === 0) return Buffer.alloc(0);
  const bytes = koffi.decode(ptr, 'uint8_t', length) as Uint8Array;
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
