// A minimal strict DER reader and writer for SPNEGO: every length is checked against its enclosing buffer, only
// minimal definite lengths are accepted, and nothing recurses on input (callers decode each level explicitly).
import { decodeOid as decodeDotted, encodeOid } from './oid.js';

/** A DER decoding failure. `reason` never contains input bytes. */
export class DerError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'DerError';
  }
}

export interface Tlv {
  tag: number;
  /** The content octets. */
  value: Buffer;
  /** The whole TLV (tag, length and content): what a MIC over the encoding covers. */
  raw: Buffer;
}

/** A TLV read from a buffer; `raw` is made when asked (only a MIC needs it): a view less per TLV read. */
class TlvView implements Tlv {
  constructor(
    readonly tag: number,
    readonly value: Buffer,
    private readonly buf: Buffer,
    private readonly offset: number,
  ) {}

  get raw(): Buffer {
    return this.buf.subarray(this.offset, this.value.byteOffset - this.buf.byteOffset + this.value.length);
  }
}

/** Where a TLV's content lies in its buffer: [start, end). */
export interface TlvHeader {
  tag: number;
  start: number;
  end: number;
}

/**
 * The header of the TLV at `offset` of a container that ends at `limit`, checked as readTlv checks it, without a
 * view of its content: for walks over a whole token (krb5-token.ts, checkDer) that look at the structure only.
 */
export function readHeader(buf: Buffer, offset: number, limit = buf.length): TlvHeader {
  if (offset >= limit) throw new DerError('truncated: a tag was expected');
  const tag = buf[offset];
  if ((tag & 0x1f) === 0x1f) throw new DerError('multi-byte tags are not used by SPNEGO');
  if (offset + 1 >= limit) throw new DerError('truncated: a length was expected');
  let length = buf[offset + 1];
  let header = 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0) throw new DerError('indefinite length is not DER');
    if (count > 4) throw new DerError('length of length over 4 bytes');
    if (offset + 2 + count > limit) throw new DerError('truncated: the length runs past the end');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + buf[offset + 2 + i];
    if (length < 0x80 || buf[offset + 2] === 0) throw new DerError('non-minimal length encoding');
    header += count;
  }
  const start = offset + header;
  if (length > limit - start) throw new DerError('a length runs past the end of its container');
  return { tag, start, end: start + length };
}

/** Reads one TLV at `offset`; returns it and the offset just past it. Only single-byte tags occur in SPNEGO. */
export function readTlv(buf: Buffer, offset: number): { tlv: Tlv; next: number } {
  const { tag, start, end } = readHeader(buf, offset);
  return { tlv: new TlvView(tag, buf.subarray(start, end), buf, offset), next: end };
}

/** Reads exactly one TLV filling `buf`, with the expected tag. */
export function readOnly(buf: Buffer, tag: number, what: string): Tlv {
  const { tlv, next } = readTlv(buf, 0);
  if (tlv.tag !== tag) throw new DerError(`${what}: unexpected tag 0x${tlv.tag.toString(16)}`);
  if (next !== buf.length) throw new DerError(`${what}: trailing bytes`);
  return tlv;
}

/** All TLVs in `buf`, in order (one level, no recursion). */
export function readAll(buf: Buffer): Tlv[] {
  const out: Tlv[] = [];
  for (let offset = 0; offset < buf.length; ) {
    const { tlv, next } = readTlv(buf, offset);
    out.push(tlv);
    offset = next;
  }
  return out;
}

/** How many octets the DER length of `length` takes. */
function lengthOctets(length: number): number {
  if (length < 0x80) return 1;
  let n = 1;
  for (let v = length; v > 0; v = Math.floor(v / 256)) n++;
  return n;
}

/** Writes the DER length of `length` at `offset`; returns the offset past it. */
function writeLength(out: Buffer, offset: number, length: number): number {
  if (length < 0x80) {
    out[offset] = length;
    return offset + 1;
  }
  const count = lengthOctets(length) - 1;
  out[offset] = 0x80 | count;
  for (let i = count, v = length; i >= 1; i--, v = Math.floor(v / 256)) out[offset + i] = v & 0xff;
  return offset + 1 + count;
}

/** One TLV around `content`, built in a single allocation (tokens nest several levels deep). */
export function tlv(tag: number, ...content: Uint8Array[]): Buffer {
  let length = 0;
  for (const c of content) length += c.length;
  const out = Buffer.allocUnsafe(1 + lengthOctets(length) + length);
  out[0] = tag;
  let at = writeLength(out, 1, length);
  for (const c of content) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

export const TAG = {
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  OID: 0x06,
  ENUMERATED: 0x0a,
  SEQUENCE: 0x30,
  APPLICATION_0: 0x60,
  context: (n: number) => 0xa0 | n,
} as const;

/** OID content octets -> dotted string; a malformed OID is a DerError. */
export function decodeOid(value: Buffer): string {
  try {
    return decodeDotted(value);
  } catch (err) {
    throw new DerError((err as Error).message);
  }
}

export { encodeOid };

/**
 * An OID's TLV. The few OIDs a process frames (the mechanisms) are encoded once and shared: every caller copies the
 * result into the token it builds (tlv), none writes to it. The cache is bounded, whatever OIDs come its way.
 */
export function oidTlv(dotted: string): Buffer {
  let out = oidTlvs.get(dotted);
  if (!out) {
    out = tlv(TAG.OID, encodeOid(dotted));
    if (oidTlvs.size < 32) oidTlvs.set(dotted, out);
  }
  return out;
}
const oidTlvs = new Map<string, Buffer>();
