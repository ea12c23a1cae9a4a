// The GSS struct layouts of the four 64-bit platforms, computed by koffi from ffi/gssapi.ts's declarations and
// checked against the figures the headers give: natural alignment (MIT, Heimdal, Apple arm64) or Apple's
// `#pragma pack(push,2)` on x86_64. All four are LP64 (8-byte size_t and pointers), so one host computes them all.
import { expect } from 'chai';
import koffi from 'koffi';
import { gssStructTypes, gssStructsPacked } from '../../ffi/gssapi.js';
import { sspiStructTypes } from '../../ffi/secur32.js';

type Layout = Record<string, { size: number; offsets: Record<string, number> }>;

const NATURAL: Layout = {
  gss_buffer_desc: { size: 16, offsets: { length: 0, value: 8 } },
  gss_OID_desc: { size: 16, offsets: { length: 0, elements: 8 } },
  gss_OID_set_desc: { size: 16, offsets: { count: 0, elements: 8 } },
  gss_channel_bindings_struct: {
    size: 64,
    offsets: { initiator_addrtype: 0, initiator_address: 8, acceptor_addrtype: 24, acceptor_address: 32, application_data: 48 },
  },
  gss_iov_buffer_desc: { size: 24, offsets: { type: 0, buffer: 8 } },
  gss_buffer_set_desc: { size: 16, offsets: { count: 0, elements: 8 } },
};

/** pack(2): no padding after a 4-byte member before an 8-byte one. */
const APPLE_X64: Layout = {
  ...NATURAL,
  gss_OID_desc: { size: 12, offsets: { length: 0, elements: 4 } },
  gss_channel_bindings_struct: {
    size: 56,
    offsets: { initiator_addrtype: 0, initiator_address: 4, acceptor_addrtype: 20, acceptor_address: 24, application_data: 40 },
  },
  gss_iov_buffer_desc: { size: 20, offsets: { type: 0, buffer: 4 } },
};

const PLATFORMS: Array<[NodeJS.Platform, string, Layout]> = [
  ['linux', 'x64', NATURAL],
  ['linux', 'arm64', NATURAL],
  ['darwin', 'x64', APPLE_X64],
  ['darwin', 'arm64', NATURAL],
];

describe('GSS struct layouts per platform', () => {
  for (const [platform, arch, expected] of PLATFORMS) {
    it(`${platform}-${arch}: sizes and offsets match the headers`, () => {
      const packed = gssStructsPacked(platform, arch);
      expect(packed).to.equal(platform === 'darwin' && arch === 'x64');
      const types = gssStructTypes(packed) as unknown as Record<string, ReturnType<typeof koffi.struct>>;
      for (const [name, { size, offsets }] of Object.entries(expected)) {
        expect(koffi.sizeof(types[name]), `sizeof(${name})`).to.equal(size);
        for (const [field, offset] of Object.entries(offsets)) {
          expect(koffi.offsetof(types[name], field), `offsetof(${name}, ${field})`).to.equal(offset);
        }
      }
    });
  }

  it('this process uses its own platform\'s layout', () => {
    expect(koffi.sizeof('gss_OID_desc')).to.equal(gssStructsPacked() ? 12 : 16);
  });
});

// SSPI (sspi.h) on 64-bit Windows (x64 and arm64 alike: ULONG is 32 bits, pointers and ULONG_PTR 64).
const SSPI_X64: Layout = {
  SecHandle: { size: 16, offsets: { dwLower: 0, dwUpper: 8 } },
  SecBuffer: { size: 16, offsets: { cbBuffer: 0, BufferType: 4, pvBuffer: 8 } },
  SecBufferDesc: { size: 16, offsets: { ulVersion: 0, cBuffers: 4, pBuffers: 8 } },
  SEC_WINNT_AUTH_IDENTITY_W: {
    size: 48,
    offsets: { User: 0, UserLength: 8, Domain: 16, DomainLength: 24, Password: 32, PasswordLength: 40, Flags: 44 },
  },
  SecPkgContext_Sizes: { size: 16, offsets: { cbMaxToken: 0, cbMaxSignature: 4, cbBlockSize: 8, cbSecurityTrailer: 12 } },
  SecPkgInfoW: { size: 32, offsets: { fCapabilities: 0, wVersion: 4, wRPCID: 6, cbMaxToken: 8, Name: 16, Comment: 24 } },
};

describe('SSPI struct layouts (win32-x64, win32-arm64)', () => {
  it('sizes and offsets match sspi.h', () => {
    const types = sspiStructTypes() as unknown as Record<string, ReturnType<typeof koffi.struct>>;
    for (const [name, { size, offsets }] of Object.entries(SSPI_X64)) {
      expect(koffi.sizeof(types[name]), `sizeof(${name})`).to.equal(size);
      for (const [field, offset] of Object.entries(offsets)) {
        expect(koffi.offsetof(types[name], field), `offsetof(${name}, ${field})`).to.equal(offset);
      }
    }
  });
});
