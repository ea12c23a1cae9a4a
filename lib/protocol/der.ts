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

/** Reads one TLV at `offset`; returns it and the offset just past it. Only single-byte tags occur in SPNEGO. */
export function readTlv(buf: Buffer, offset: number): { tlv: Tlv; next: number } {
  if (offset >= buf.length) throw new DerError('truncated: a tag was expected');
  const tag = buf[offset];
  if ((tag & 0x1f) === 0x1f) throw new DerError('multi-byte tags are not used by SPNEGO');
  if (offset + 1 >= buf.length) throw new DerError('truncated: a length was expected');
  let length = buf[offset + 1];
  let header = 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0) throw new DerError('indefinite length is not DER');
    if (count > 4) throw new DerError('length of length over 4 bytes');
    if (offset + 2 + count > buf.length) throw new DerError('truncated: the length runs past the end');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + buf[offset + 2 + i];
    if (length < 0x80 || buf[offset + 2] === 0) throw new DerError('non-minimal length encoding');
    header += count;
  }
  const start = offset + header;
  if (length > buf.length - start) throw new DerError('a length runs past the end of its container');
  return {
    tlv: { tag, value: buf.subarray(start, start + length), raw: buf.subarray(offset, start + length) },
    next: start + length,
  };
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

export const oidTlv = (dotted: string) => tlv(TAG.OID, encodeOid(dotted));
