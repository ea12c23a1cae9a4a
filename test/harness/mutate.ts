// Seeded mutations of valid tokens for fuzz loops: reproducible from (seed, case index).

/** mulberry32: a small, fast, seedable PRNG (values in [0, 1)). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const int = (rng: () => number, n: number) => Math.floor(rng() * n);

/** One mutation: bit flips, truncation, extension, length-byte edits, byte splices, random bytes or empty. */
export function mutate(input: Buffer, rng: () => number): Buffer {
  const buf = Buffer.from(input);
  switch (int(rng, 8)) {
    case 0: {
      for (let i = 1 + int(rng, 4); i > 0 && buf.length; i--) buf[int(rng, buf.length)] ^= 1 << int(rng, 8);
      return buf;
    }
    case 1:
      return buf.subarray(0, int(rng, buf.length + 1));
    case 2:
      return Buffer.concat([buf, Buffer.from(Array.from({ length: 1 + int(rng, 16) }, () => int(rng, 256)))]);
    case 3: {
      // Length bytes follow tags: edit the byte after a plausible tag to a boundary value.
      const at = int(rng, Math.max(buf.length - 1, 1));
      if (buf.length > 1) buf[at + 1] = [0x00, 0x7f, 0x80, 0x81, 0x82, 0x84, 0x85, 0xff][int(rng, 8)];
      return buf;
    }
    case 4: {
      const at = int(rng, buf.length + 1);
      const piece = buf.subarray(int(rng, buf.length + 1));
      return Buffer.concat([buf.subarray(0, at), piece, buf.subarray(at)]);
    }
    case 5:
      return Buffer.from(Array.from({ length: int(rng, 64) }, () => int(rng, 256)));
    case 6:
      return Buffer.alloc(0);
    default: {
      if (buf.length) buf[int(rng, buf.length)] = [0x30, 0x60, 0xa0, 0xa1, 0xa2, 0xa3, 0x04, 0x06][int(rng, 8)];
      return buf;
    }
  }
}
