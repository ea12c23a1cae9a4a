// UTF-8 bytes to NUL-terminated UTF-16LE without a JavaScript string in between: a string cannot be zeroed, so a
// password that arrived as bytes must never become one (docs/security.md). Decodes as the WHATWG Encoding standard
// (and Node's Buffer#toString) does: each invalid or truncated sequence becomes one U+FFFD.

/** `bytes` as UTF-16LE code units followed by a NUL; `units` excludes the NUL. The caller zeroes `buffer`. */
export function utf8ToUtf16z(bytes: Uint8Array): { buffer: Buffer; units: number } {
  // At most one code unit per input byte (a 4-byte sequence gives 2 units), plus the NUL.
  const out = Buffer.alloc((bytes.length + 1) * 2);
  let units = 0;
  const emit = (cp: number) => {
    if (cp < 0x10000) {
      out.writeUInt16LE(cp, units++ * 2);
    } else {
      const v = cp - 0x10000;
      out.writeUInt16LE(0xd800 + (v >> 10), units++ * 2);
      out.writeUInt16LE(0xdc00 + (v & 0x3ff), units++ * 2);
    }
  };
  let cp = 0;
  let needed = 0;
  let seen = 0;
  let lower = 0x80;
  let upper = 0xbf;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (needed === 0) {
      if (b <= 0x7f) emit(b);
      else if (b >= 0xc2 && b <= 0xdf) { needed = 1; cp = b & 0x1f; }
      else if (b >= 0xe0 && b <= 0xef) {
        if (b === 0xe0) lower = 0xa0;
        if (b === 0xed) upper = 0x9f;
        needed = 2;
        cp = b & 0xf;
      } else if (b >= 0xf0 && b <= 0xf4) {
        if (b === 0xf0) lower = 0x90;
        if (b === 0xf4) upper = 0x8f;
        needed = 3;
        cp = b & 0x7;
      } else emit(0xfffd);
      continue;
    }
    if (b < lower || b > upper) {
      // The sequence ends here, invalid: one U+FFFD, and this byte starts afresh.
      cp = needed = seen = 0;
      lower = 0x80;
      upper = 0xbf;
      emit(0xfffd);
      i--;
      continue;
    }
    lower = 0x80;
    upper = 0xbf;
    cp = (cp << 6) | (b & 0x3f);
    if (++seen === needed) {
      emit(cp);
      cp = needed = seen = 0;
    }
  }
  if (needed) emit(0xfffd);
  return { buffer: out, units };
}
