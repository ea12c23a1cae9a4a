// The SSPI provider's password conversion (lib/providers/utf16.ts) decodes exactly as Node does, without a string.
import { expect } from 'chai';
import { utf8ToUtf16z } from '../../lib/providers/utf16.js';

/** What Node gives through a string: the reference. */
const viaString = (bytes: Uint8Array) => Buffer.from(Buffer.from(bytes).toString('utf8'), 'utf16le');

function check(bytes: Uint8Array): void {
  const { buffer, units } = utf8ToUtf16z(bytes);
  const expected = viaString(bytes);
  expect(buffer.subarray(0, units * 2).equals(expected), Buffer.from(bytes).toString('hex')).to.equal(true);
  expect(buffer.readUInt16LE(units * 2), 'NUL-terminated').to.equal(0);
}

describe('UTF-8 to UTF-16LE without a string (SSPI passwords)', () => {
  it('matches Node for text in every UTF-8 length, surrogate pairs included', () => {
    for (const text of ['', 'p4ssw0rd', 'pässwörd', 'пароль', '密码', 'Passw🔑rd', '𝔭𝔞𝔰𝔰', 'a\u0000b', '\u{10ffff}\u{10000}\u{ffff}']) {
      check(Buffer.from(text, 'utf8'));
    }
  });

  it('matches Node for invalid and truncated sequences (one U+FFFD each, as the Encoding standard says)', () => {
    for (const hex of ['80', 'c0af', 'c2', 'e282', 'e0808f', 'eda080', 'f4908080', 'f0', 'f09f', 'f09f94', 'ff', 'fe41', 'e2ffac', 'c3c3a9', '41e2828241']) {
      check(Buffer.from(hex, 'hex'));
    }
  });

  it('matches Node on 20,000 random byte strings weighted toward multi-byte lead and continuation bytes', () => {
    let seed = 20261202;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) & 0xff;
    const pick = [0x41, 0x7f, 0x80, 0xbf, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff, 0x9f, 0xa0, 0x8f, 0x90];
    for (let n = 0; n < 20_000; n++) {
      const bytes = Uint8Array.from({ length: rand() % 12 }, () => (rand() & 1 ? pick[rand() % pick.length] : rand()));
      check(bytes);
    }
  });
});
