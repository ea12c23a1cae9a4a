// OIDs as the GSS library takes them: gss_OID and gss_OID_set structures in memory we own, built from dotted
// strings with the X.690 codec (lib/protocol/oid.ts), and read back.
import koffi from 'koffi';
import { gss_OID_desc, gss_OID_set_desc } from '../../ffi/gssapi.js';
import { decodeOid, encodeOid } from '../protocol/oid.js';

const oidCache = new Map<string, bigint>();

/** A `gss_OID` (pointer to a gss_OID_desc) for `dotted`, allocated once for the life of the process. */
export function gssOid(dotted: string): bigint {
  let ptr = oidCache.get(dotted);
  if (ptr === undefined) {
    const bytes = encodeOid(dotted);
    const elements = koffi.alloc('uint8_t', bytes.length) as bigint;
    koffi.encode(elements, 'uint8_t', Array.from(bytes), bytes.length);
    ptr = koffi.alloc(gss_OID_desc, 1) as bigint;
    koffi.encode(ptr, gss_OID_desc, { length: bytes.length, elements });
    oidCache.set(dotted, ptr);
  }
  return ptr;
}

/** A `gss_OID_set` holding `dotted` OIDs, allocated once per distinct list. */
const oidSetCache = new Map<string, bigint>();
export function gssOidSet(dotted: readonly string[]): bigint {
  const key = dotted.join(',');
  let ptr = oidSetCache.get(key);
  if (ptr === undefined) {
    const elements = koffi.alloc(gss_OID_desc, dotted.length) as bigint;
    const size = koffi.sizeof(gss_OID_desc);
    dotted.forEach((oid, i) => {
      const bytes = encodeOid(oid);
      const data = koffi.alloc('uint8_t', bytes.length) as bigint;
      koffi.encode(data, 'uint8_t', Array.from(bytes), bytes.length);
      koffi.encode(elements, i * size, gss_OID_desc, { length: bytes.length, elements: data });
    });
    ptr = koffi.alloc(gss_OID_set_desc, 1) as bigint;
    koffi.encode(ptr, gss_OID_set_desc, { count: dotted.length, elements });
    oidSetCache.set(key, ptr);
  }
  return ptr;
}

/** Reads a gss_OID (pointer) back into dotted form; null for GSS_C_NO_OID. */
export function readOid(ptr: bigint | null): string | null {
  if (!ptr) return null;
  const desc = koffi.decode(ptr, gss_OID_desc) as { length: number; elements: bigint };
  return decodeOid(Buffer.from(koffi.decode(desc.elements, 'uint8_t', desc.length) as number[]));
}
