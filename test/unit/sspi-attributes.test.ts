// The SSPI provider's decoding of what QueryContextAttributesW and the package functions write, checked on any OS:
// each SecPkgContext_* is built here in native memory with the sspi.h layout of 64-bit Windows (the same pointer
// and ULONG sizes as this LP64 host), then decoded. Wine answers only SIZES and NEGOTIATION_INFO, so this is
// where NAMES, NATIVE_NAMES, AUTHORITY, LIFESPAN, SESSION_KEY, KEY_INFO, PACKAGE_INFO, FLAGS and STREAM_SIZES are proven.
import { expect } from 'chai';
import koffi from 'koffi';
import {
  SECPKG_ATTR_AUTHORITY, SECPKG_ATTR_FLAGS, SECPKG_ATTR_LIFESPAN, SECPKG_ATTR_NAMES, SECPKG_ATTR_NATIVE_NAMES, SECPKG_ATTR_NEGOTIATION_INFO,
  SECPKG_ATTR_PACKAGE_INFO, SECPKG_ATTR_SESSION_KEY, SECPKG_ATTR_SIZES, SECPKG_ATTR_STREAM_SIZES, SECPKG_NEGOTIATION_COMPLETE,
} from '../../lib/index.js';
import {
  CONTEXT_ATTRIBUTE_BYTES, PTR, decodeContextAttribute, decodesContextAttribute, keyInfoEncryptAlgorithm, packageInfo, timeStamp,
} from '../../lib/providers/sspi-attributes.js';

/** Native memory the test owns: every block is released after each test; `freed` records what the decoder freed. */
class Native {
  private readonly blocks: unknown[] = [];
  readonly freed: bigint[] = [];
  readonly free = (ptr: unknown) => { this.freed.push(koffi.address(ptr)); };

  bytes(size: number): unknown {
    const p = koffi.alloc('uint8_t', size);
    koffi.encode(p, koffi.array('uint8_t', size), new Array(size).fill(0));
    this.blocks.push(p);
    return p;
  }
  /** A NUL-terminated UTF-16 string, as SSPI allocates it. */
  wide(text: string): unknown {
    const units = Buffer.from(`${text}\0`, 'utf16le');
    const p = this.bytes(units.length);
    koffi.encode(p, koffi.array('uint8_t', units.length), Array.from(units));
    return p;
  }
  u32(p: unknown, at: number, v: number) { koffi.encode(p, at, 'uint32_t', v >>> 0); }
  u16(p: unknown, at: number, v: number) { koffi.encode(p, at, 'uint16_t', v); }
  i64(p: unknown, at: number, v: bigint) { koffi.encode(p, at, 'int64_t', v); }
  ptr(p: unknown, at: number, v: unknown) { koffi.encode(p, at, 'void *', v); }
  /** A SecPkgInfoW: ULONG fCapabilities; USHORT wVersion, wRPCID; ULONG cbMaxToken; SEC_WCHAR *Name, *Comment. */
  pkgInfo(name: string, comment: string, maxToken: number): unknown {
    const p = this.bytes(32);
    this.u32(p, 0, 0x000e3bb3);
    this.u16(p, 4, 1);
    this.u16(p, 6, 9);
    this.u32(p, 8, maxToken);
    this.ptr(p, 16, this.wide(name));
    this.ptr(p, 24, this.wide(comment));
    return p;
  }
  release() {
    for (const b of this.blocks.splice(0)) koffi.free(b);
  }
}

/** FILETIME ticks of a UTC instant, written as SSPI writes TimeStamps: in local time. */
function localTicks(utc: Date): bigint {
  const local = utc.getTime() - utc.getTimezoneOffset() * 60_000;
  return (BigInt(local) + 11_644_473_600_000n) * 10_000n;
}

describe('SSPI attribute decoding (sspi.h layouts of 64-bit Windows, built in native memory)', () => {
  let n: Native;
  beforeEach(() => { n = new Native(); });
  afterEach(() => n.release());

  it('this host has the pointer size of the layouts (LP64 = Windows x64/arm64 for these structs)', () => {
    expect(PTR).to.equal(8);
    expect(koffi.sizeof('void *')).to.equal(8);
  });

  it('SIZES and STREAM_SIZES: ULONG fields in order', () => {
    const sizes = n.bytes(CONTEXT_ATTRIBUTE_BYTES);
    [12000, 37, 1, 49].forEach((v, i) => n.u32(sizes, 4 * i, v));
    expect(decodeContextAttribute(SECPKG_ATTR_SIZES, sizes, n.free)).to.deep.equal({ cbMaxToken: 12000, cbMaxSignature: 37, cbBlockSize: 1, cbSecurityTrailer: 49 });
    const stream = n.bytes(CONTEXT_ATTRIBUTE_BYTES);
    [16, 28, 65536, 4, 16].forEach((v, i) => n.u32(stream, 4 * i, v));
    expect(decodeContextAttribute(SECPKG_ATTR_STREAM_SIZES, stream, n.free)).to.deep.equal({ cbHeader: 16, cbTrailer: 28, cbMaximumMessage: 65536, cBuffers: 4, cbBlockSize: 16 });
    expect(n.freed).to.deep.equal([]);
  });

  it('NAMES and NATIVE_NAMES: UTF-16 strings SSPI allocated, read and each freed once', () => {
    const names = n.bytes(CONTEXT_ATTRIBUTE_BYTES);
    const user = n.wide('KN.TEST\\ålice');
    n.ptr(names, 0, user);
    expect(decodeContextAttribute(SECPKG_ATTR_NAMES, names, n.free)).to.deep.equal({ userName: 'KN.TEST\\ålice' });
    expect(n.freed).to.deep.equal([koffi.address(user)]);

    const native = n.bytes(CONTEXT_ATTRIBUTE_BYTES);
    const client = n.wide('alice@KN.TEST');
    const server = n.wide('HTTP/web.kn.test@KN.TEST');
    n.ptr(native, 0, client);
    n.ptr(native, PTR, server);
    expect(decodeContextAttribute(SECPKG_ATTR_NATIVE_NAMES, native, n.free)).to.deep.equal({ clientName: 'alice@KN.TEST', serverName: 'HTTP/web.kn.test@KN.TEST' });
    expect(n.freed.slice(1)).to.deep.equal([koffi.address(client), koffi.address(server)]);
  });

  it('AUTHORITY (a server context\'s client realm): SecPkgContext_AuthorityW\'s string read and freed once', () => {
    const authority = n.bytes(CONTEXT_ATTRIBUTE_BYTES);
    const realm = n.wide('KN.TEST');
    n.ptr(authority, 0, realm);
    expect(decodeContextAttribute(SECPKG_ATTR_AUTHORITY, authority, n.free)).to.deep.equal({ authorityName: 'KN.TEST' });
    expect(n.freed).to.deep.equal([koffi.address(realm)]);
  });

  it('LIFESPAN: two local-time TimeStamps to instants, in any time zone; "never" and zero are undefined', () => {
    const saved = process.env.TZ;
    try {
      for (const tz of ['UTC', 'America/New_York', 'Asia/Kolkata']) {
        process.env.TZ = tz;
        const start = new Date('2026-12-02T08:00:00Z');
        const expiry = new Date('2026-12-02T18:00:00Z');
        const life = n.bytes(CONTEXT_ATTRIBUTE_BYTES);
        n.i64(life, 0, localTicks(start));
        n.i64(life, 8, localTicks(expiry));
        const v = decodeContextAttribute(SECPKG_ATTR_LIFESPAN, life, n.free) as { start: Date; expiry: Date };
        expect(v.start.toISOString(), tz).to.equal(start.toISOString());
        expect(v.expiry.toISOString(), tz).to.equal(expiry.toISOString());
      }
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
    expect(timeStamp(0x7fffffffffffffffn)).to.equal(undefined);
    expect(timeStamp(0n)).to.equal(undefined);
  });

  it('SESSION_KEY: the key bytes copied out, the SSPI buffer freed, the enctype from KEY_INFO', () => {
    const key = Buffer.from('00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff', 'hex');
    const keyMem = n.bytes(key.length);
    koffi.encode(keyMem, koffi.array('uint8_t', key.length), Array.from(key));
    const attr = n.bytes(CONTEXT_ATTRIBUTE_BYTES);
    n.u32(attr, 0, key.length);
    n.ptr(attr, PTR, keyMem);
    const v = decodeContextAttribute(SECPKG_ATTR_SESSION_KEY, attr, n.free, () => 18) as { sessionKey: Buffer; keyType: number };
    expect(v.sessionKey.equals(key)).to.equal(true);
    expect(v.keyType).to.equal(18);
    expect(n.freed).to.deep.equal([koffi.address(keyMem)]);
    // The copy is ours: freeing (here: overwriting) SSPI's buffer leaves it intact.
    koffi.encode(keyMem, koffi.array('uint8_t', key.length), new Array(key.length).fill(0));
    expect(v.sessionKey.equals(key)).to.equal(true);

    // SecPkgContext_KeyInfoW: two names (freed), KeySize, SignatureAlgorithm, EncryptAlgorithm.
    const info = n.bytes(CONTEXT_ATTRIBUTE_BYTES);
    const sig = n.wide('HMAC-SHA1-96-AES256');
    const enc = n.wide('AES-256-CTS-HMAC-SHA1-96');
    n.ptr(info, 0, sig);
    n.ptr(info, PTR, enc);
    n.u32(info, 2 * PTR, 256);
    n.u32(info, 2 * PTR + 4, 16);
    n.u32(info, 2 * PTR + 8, 18);
    expect(keyInfoEncryptAlgorithm(info, n.free)).to.equal(18);
    expect(n.freed.slice(1)).to.deep.equal([koffi.address(sig), koffi.address(enc)]);
  });

  it('PACKAGE_INFO and NEGOTIATION_INFO: the SecPkgInfoW read, then freed; the negotiation state after the pointer', () => {
    const pkg = n.pkgInfo('Kerberos', 'Microsoft Kerberos V1.0', 48256);
    const attr = n.bytes(CONTEXT_ATTRIBUTE_BYTES);
    n.ptr(attr, 0, pkg);
    const expected = { name: 'Kerberos', comment: 'Microsoft Kerberos V1.0', capabilities: 0x000e3bb3, version: 1, rpcId: 9, maxToken: 48256 };
    expect(decodeContextAttribute(SECPKG_ATTR_PACKAGE_INFO, attr, n.free)).to.deep.equal(expected);
    expect(n.freed).to.deep.equal([koffi.address(pkg)]);

    const neg = n.bytes(CONTEXT_ATTRIBUTE_BYTES);
    n.ptr(neg, 0, pkg);
    n.u32(neg, PTR, SECPKG_NEGOTIATION_COMPLETE);
    expect(decodeContextAttribute(SECPKG_ATTR_NEGOTIATION_INFO, neg, n.free)).to.deep.equal({ packageInfo: expected, negotiationState: SECPKG_NEGOTIATION_COMPLETE });
    expect(n.freed).to.deep.equal([koffi.address(pkg), koffi.address(pkg)]);
  });

  it('EnumerateSecurityPackagesW: an array of SecPkgInfoW read by offset', () => {
    const array = n.bytes(3 * 32);
    const entries: Array<[string, number]> = [['Negotiate', 48256], ['Kerberos', 48000], ['NTLM', 2888]];
    entries.forEach(([name, max], i) => {
      const one = n.pkgInfo(name, `${name} package`, max);
      koffi.encode(array, i * 32, koffi.array('uint8_t', 32), Array.from(koffi.decode(one, koffi.array('uint8_t', 32)) as Uint8Array));
    });
    expect(entries.map((_, i) => packageInfo(array, i * 32)).map((p) => [p.name, p.maxToken])).to.deep.equal(entries);
  });

  it('FLAGS is unsigned; an attribute without a decoder is not marshalled', () => {
    const flags = n.bytes(CONTEXT_ATTRIBUTE_BYTES);
    n.u32(flags, 0, 0x80000000);
    expect(decodeContextAttribute(SECPKG_ATTR_FLAGS, flags, n.free)).to.deep.equal({ flags: 0x80000000 });
    expect(decodesContextAttribute(SECPKG_ATTR_FLAGS)).to.equal(true);
    expect(decodesContextAttribute(3 /* SECPKG_ATTR_DCE_INFO */)).to.equal(false);
  });
});
