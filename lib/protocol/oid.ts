// OBJECT IDENTIFIER content octets (X.690 §8.19) <-> dotted strings. Strict: the same codec reads OIDs the GSS
// library hands out and OIDs a peer sends in a SPNEGO token.

// A handful of OIDs occur (the mechanisms, name types): their codings are kept, so a token costs no BigInt work.
// Bounded, since a peer chooses the OIDs it sends.
const MEMO_LIMIT = 64;
const encoded = new Map<string, Buffer>();
const decoded = new Map<string, string>();

/** Dotted string -> DER content octets (a new Buffer each time). Throws RangeError for a malformed dotted string. */
export function encodeOid(dotted: string): Buffer {
  const known = encoded.get(dotted);
  if (known) return Buffer.from(known);
  const octets = encodeOidOnce(dotted);
  if (encoded.size < MEMO_LIMIT) encoded.set(dotted, Buffer.from(octets));
  return octets;
}

/** DER content octets -> dotted string. Throws RangeError for empty, truncated, non-minimal or overlong input. */
export function decodeOid(value: Uint8Array): string {
  const key = Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('latin1');
  const known = decoded.get(key);
  if (known !== undefined) return known;
  const dotted = decodeOidOnce(value);
  if (decoded.size < MEMO_LIMIT) decoded.set(key, dotted);
  return dotted;
}

function encodeOidOnce(dotted: string): Buffer {
  if (!/^[0-2](\.\d+)+$/.test(dotted)) throw new RangeError(`not an OID: ${dotted}`);
  const arcs = dotted.split('.').map((a) => BigInt(a));
  const out: number[] = [];
  const push = (n: bigint) => {
    const chunk = [Number(n & 0x7fn)];
    for (n >>= 7n; n > 0n; n >>= 7n) chunk.unshift(Number(n & 0x7fn) | 0x80);
    out.push(...chunk);
  };
  push(arcs[0] * 40n + arcs[1]);
  arcs.slice(2).forEach(push);
  return Buffer.from(out);
}

function decodeOidOnce(value: Uint8Array): string {
  if (value.length === 0) throw new RangeError('empty OBJECT IDENTIFIER');
  const arcs: bigint[] = [];
  let v = 0n;
  let fresh = true;
  for (const b of value) {
    if (fresh && b === 0x80) throw new RangeError('non-minimal OBJECT IDENTIFIER arc');
    v = (v << 7n) | BigInt(b & 0x7f);
    fresh = !(b & 0x80);
    if (fresh) {
      arcs.push(v);
      v = 0n;
    }
    if (arcs.length > 64) throw new RangeError('OBJECT IDENTIFIER too long');
  }
  if (!fresh) throw new RangeError('truncated OBJECT IDENTIFIER arc');
  const first = arcs.shift()!;
  const head = first < 80n ? [first / 40n, first % 40n] : [2n, first - 80n];
  return [...head, ...arcs].join('.');
}
