// SSPI's results in native memory (SecPkgContext_*, SecPkgInfoW, TimeStamp; sspi.h layouts) decoded into the API's
// values. Apart from the provider so the layouts can be checked on any OS: the caller passes what frees the members
// SSPI allocated (FreeContextBuffer on Windows; a recorder in test/unit/sspi-attributes.test.ts).
import koffi from 'koffi';
import { copyOut } from '../../ffi/memory.js';
import { SecPkgContext_Sizes, SecPkgInfoW } from '../../ffi/secur32.js';
import * as A from '../vocabulary/attributes.js';

/** Frees a buffer SSPI allocated. */
export type FreeContextBuffer = (ptr: unknown) => void;

/** The size of a pointer (and ULONG_PTR) in the process's Windows ABI. */
export const PTR = process.arch === 'ia32' ? 4 : 8;

/** FILETIME ticks (100 ns since 1601) of SSPI's "never expires". */
const NEVER = 0x7fffffffffffffffn;

/** A TimeStamp (local time, as SSPI reports it) to a Date; undefined for "never" and for none. */
export function timeStamp(ts: bigint | number): Date | undefined {
  const t = BigInt(ts);
  if (t <= 0n || t >= NEVER) return undefined;
  const local = Number(t / 10000n) - 11_644_473_600_000;
  return new Date(local + new Date(local).getTimezoneOffset() * 60_000);
}

/** A SEC_WCHAR string SSPI allocated: read, then freed. */
export function takeString(ptr: unknown, free: FreeContextBuffer): string {
  if (!ptr) return '';
  const text = koffi.decode(ptr, 'char16_t', -1) as string;
  free(ptr);
  return text;
}

/** A SecPkgInfoW (at `offset`, for arrays) as the API's SecPkgInfo; not freed: the caller owns the pointer. */
export function packageInfo(ptr: unknown, offset = 0): A.SecPkgInfo {
  const p = koffi.decode(ptr, offset, SecPkgInfoW) as { fCapabilities: number; wVersion: number; wRPCID: number; cbMaxToken: number; Name: unknown; Comment: unknown };
  return {
    name: koffi.decode(p.Name, 'char16_t', -1) as A.SecPkgInfo['name'],
    comment: p.Comment ? (koffi.decode(p.Comment, 'char16_t', -1) as string) : '',
    capabilities: p.fCapabilities, version: p.wVersion, rpcId: p.wRPCID, maxToken: p.cbMaxToken,
  };
}

const u32 = (p: unknown, at: number) => koffi.decode(p, at, 'uint32_t') as number;
const ptrAt = (p: unknown, at: number) => koffi.decode(p, at, 'void *') as unknown;

/** SecPkgContext_KeyInfoW's EncryptAlgorithm (Kerberos puts the enctype there); its two names are freed. */
export function keyInfoEncryptAlgorithm(out: unknown, free: FreeContextBuffer): number {
  takeString(ptrAt(out, 0), free);
  takeString(ptrAt(out, PTR), free);
  return u32(out, 2 * PTR + 8);
}

type Decoder = (out: unknown, free: FreeContextBuffer, keyType: () => number) => unknown;

/** SecPkgContext_* layouts -> the API's attribute values; SSPI-allocated members are freed here. */
const DECODERS: Record<number, Decoder> = {
  [A.SECPKG_ATTR_SIZES]: (o) => koffi.decode(o, SecPkgContext_Sizes),
  [A.SECPKG_ATTR_STREAM_SIZES]: (o) => ({ cbHeader: u32(o, 0), cbTrailer: u32(o, 4), cbMaximumMessage: u32(o, 8), cBuffers: u32(o, 12), cbBlockSize: u32(o, 16) }),
  [A.SECPKG_ATTR_NAMES]: (o, free) => ({ userName: takeString(ptrAt(o, 0), free) }),
  // SecPkgContext_AuthorityW: the realm (domain) that authenticated the client, on a server context.
  [A.SECPKG_ATTR_AUTHORITY]: (o, free) => ({ authorityName: takeString(ptrAt(o, 0), free) }),
  [A.SECPKG_ATTR_NATIVE_NAMES]: (o, free) => ({ clientName: takeString(ptrAt(o, 0), free), serverName: takeString(ptrAt(o, PTR), free) }),
  [A.SECPKG_ATTR_LIFESPAN]: (o) => ({ start: timeStamp(koffi.decode(o, 0, 'int64_t') as bigint), expiry: timeStamp(koffi.decode(o, 8, 'int64_t') as bigint) }),
  [A.SECPKG_ATTR_FLAGS]: (o) => ({ flags: u32(o, 0) >>> 0 }),
  [A.SECPKG_ATTR_SESSION_KEY]: (o, free, keyType) => {
    const key = ptrAt(o, PTR);
    const sessionKey = copyOut(key as bigint, u32(o, 0));
    if (key) free(key);
    return { sessionKey, keyType: keyType() };
  },
  [A.SECPKG_ATTR_PACKAGE_INFO]: (o, free) => {
    const info = ptrAt(o, 0);
    try {
      return packageInfo(info);
    } finally {
      free(info);
    }
  },
  [A.SECPKG_ATTR_NEGOTIATION_INFO]: (o, free) => {
    const info = ptrAt(o, 0);
    try {
      return { packageInfo: packageInfo(info), negotiationState: u32(o, PTR) };
    } finally {
      free(info);
    }
  },
};

/** Whether the provider marshals `attribute` (the rest are SEC_E_UNSUPPORTED_FUNCTION without calling SSPI). */
export function decodesContextAttribute(attribute: number): boolean {
  return attribute in DECODERS;
}

/** Every SecPkgContext_* struct decoded here fits in this many bytes (the buffer QueryContextAttributesW fills). */
export const CONTEXT_ATTRIBUTE_BYTES = 64;

/** The value of `attribute` from the struct QueryContextAttributesW wrote at `out`. */
export function decodeContextAttribute(attribute: number, out: unknown, free: FreeContextBuffer, keyType: () => number = () => 0): unknown {
  return DECODERS[attribute](out, free, keyType);
}
