// QueryContextAttributes over GSS: names, lifespan and flags from gss_inquire_context, sizes from
// gss_wrap_iov_length for the negotiated enctype (computed, not guessed), the session key from
// gss_inquire_sec_context_by_oid (GSS_C_INQ_SSPI_SESSION_KEY), package information from what we negotiated.
import koffi from 'koffi';
import * as G from '../../ffi/gssapi.js';
import * as A from '../vocabulary/attributes.js';
import * as S from '../vocabulary/status.js';
import { wrapLengths } from './gssapi-message.js';
import { isFailure, outcomeOf, type Failure } from './failure.js';
import { displayName, expiryFromNow, gssFailure, type GssContext } from './gssapi-native.js';
import { gssError } from '../../ffi/gss-status.js';
import { copyOut } from '../../ffi/memory.js';
import { decodeOid } from '../protocol/oid.js';
import { gssOid } from './gssapi-oid.js';
import type { AttributeOutcome } from './provider.js';
import { heimdalSubkey } from './krb5-native.js';

/** What Windows' Kerberos package reports as cbMaxToken since Windows 8 (MaxTokenSize): a buffer that always fits. */
export const MAX_TOKEN = 48000;

const CAPABILITIES = A.SECPKG_FLAG_INTEGRITY | A.SECPKG_FLAG_PRIVACY | A.SECPKG_FLAG_CONNECTION | A.SECPKG_FLAG_MULTI_REQUIRED
  | A.SECPKG_FLAG_EXTENDED_ERROR | A.SECPKG_FLAG_ACCEPT_WIN32_NAME | A.SECPKG_FLAG_STREAM | A.SECPKG_FLAG_GSS_COMPATIBLE
  | A.SECPKG_FLAG_MUTUAL_AUTH | A.SECPKG_FLAG_DELEGATION | A.SECPKG_FLAG_READONLY_WITH_CHECKSUM;

/** What Windows' NTLM package offers: no mutual authentication, no delegation. */
const NTLM_CAPABILITIES = A.SECPKG_FLAG_INTEGRITY | A.SECPKG_FLAG_PRIVACY | A.SECPKG_FLAG_CONNECTION | A.SECPKG_FLAG_MULTI_REQUIRED
  | A.SECPKG_FLAG_ACCEPT_WIN32_NAME | A.SECPKG_FLAG_READONLY_WITH_CHECKSUM;

/**
 * SecPkgInfo for our packages. RPC ids are Windows' (RPC_C_AUTHN_GSS_KERBEROS 16, RPC_C_AUTHN_GSS_NEGOTIATE 9,
 * RPC_C_AUTHN_WINNT 10); NTLM's cbMaxToken is Windows' 2888.
 */
export function packageInfo(name: 'Kerberos' | 'Negotiate' | 'NTLM'): A.SecPkgInfo {
  const { flavour } = G.gssapi();
  if (name === 'NTLM') return { name, comment: `NTLM through gss-ntlmssp, chosen by the system SPNEGO (${flavour})`, capabilities: NTLM_CAPABILITIES, version: 1, rpcId: 10, maxToken: 2888 };
  return name === 'Kerberos'
    ? { name, comment: `Kerberos 5 through GSS-API (${flavour})`, capabilities: CAPABILITIES, version: 1, rpcId: 16, maxToken: MAX_TOKEN }
    : { name, comment: `SPNEGO over Kerberos 5 (${flavour})`, capabilities: CAPABILITIES | A.SECPKG_FLAG_NEGOTIABLE, version: 1, rpcId: 9, maxToken: MAX_TOKEN };
}

interface Inquired {
  client?: string;
  server?: string;
  expiry: Date;
  flags: number;
  open: boolean;
}

function inquire(ctx: GssContext): Inquired | Failure {
  const { fn } = G.gssapi();
  const minor = [0];
  const src: Array<bigint | null> = [null];
  const targ: Array<bigint | null> = [null];
  const lifetime = [0];
  const flags = [0];
  const open = [0];
  const before = Date.now();
  const major = fn.gss_inquire_context(minor, ctx.handle, src, targ, lifetime, [null], flags, [0], open);
  if (gssError(major)) return gssFailure(major, minor[0], ctx.mech);
  const out: Inquired = { client: displayName(src[0]), server: displayName(targ[0]), expiry: expiryFromNow(lifetime[0], before), flags: flags[0] >>> 0, open: open[0] !== 0 };
  for (const name of [src, targ]) if (name[0]) fn.gss_release_name([0], name);
  return out;
}

function sessionKey(ctx: GssContext): AttributeOutcome {
  const { fn } = G.gssapi();
  if (!fn.gss_inquire_sec_context_by_oid || !fn.gss_release_buffer_set) {
    return { status: S.SEC_E_UNSUPPORTED_FUNCTION, detail: 'this GSS library has no gss_inquire_sec_context_by_oid' };
  }
  const minor = [0];
  const set: Array<bigint | null> = [null];
  const major = fn.gss_inquire_sec_context_by_oid(minor, ctx.handle, gssOid(G.OIDS.INQ_SSPI_SESSION_KEY), set);
  if (gssError(major) || !set[0]) return outcomeOf(gssFailure(major, minor[0], ctx.mech, 'the mechanism did not give the session key'));
  try {
    const desc = koffi.decode(set[0], G.gss_buffer_set_desc) as { count: number; elements: bigint };
    const size = koffi.sizeof(G.gss_buffer_desc);
    const element = (i: number) => koffi.decode(desc.elements, i * size, G.gss_buffer_desc) as { length: number; value: bigint };
    if (desc.count < 2 && fn.gsskrb5_get_subkey) {
      // Heimdal answers MIT's SSPI session-key OID with the key alone; its own call gives the key with its type.
      const key = heimdalSubkey(ctx.handle);
      return isFailure(key) ? outcomeOf(key) : { status: S.SEC_E_OK, value: key };
    }
    if (desc.count < 2) return { status: S.SEC_E_INTERNAL_ERROR, detail: 'the session key came without its enctype' };
    const key = element(0);
    const type = element(1);
    // The second buffer is an OID whose last arc is the enctype (1.2.840.113554.1.2.2.4.<enctype>).
    const oid = decodeOid(copyOut(type.value, Number(type.length)));
    const keyType = Number(oid.split('.').pop());
    return { status: S.SEC_E_OK, value: { sessionKey: copyOut(key.value, Number(key.length)), keyType } };
  } finally {
    fn.gss_release_buffer_set([0], set);
  }
}

function sizes(ctx: GssContext): AttributeOutcome {
  const data = { type: G.GSS_IOV_BUFFER_TYPE_DATA, buffer: { length: 1, value: null } };
  const header = { type: G.GSS_IOV_BUFFER_TYPE_HEADER, buffer: { length: 0, value: null } };
  const padding = { type: G.GSS_IOV_BUFFER_TYPE_PADDING, buffer: { length: 0, value: null } };
  const sealed = wrapLengths(ctx, true, [header, data, padding]);
  const signed = wrapLengths(ctx, false, [header, data]);
  for (const r of [sealed, signed]) if (isFailure(r)) return outcomeOf(r);
  const [sealedHeader, , pad] = sealed as typeof header[];
  const [signedHeader] = signed as typeof header[];
  const value: A.SecPkgContextSizes = {
    cbMaxToken: MAX_TOKEN,
    // An RFC 4121 MIC token is the wrap header plus checksum, which is what an unencrypted wrap header holds.
    cbMaxSignature: signedHeader.buffer.length,
    // RFC 4121 enctypes (AES) need no padding: block size 1; RFC 1964 ones pad a byte of data to their block.
    cbBlockSize: pad.buffer.length === 0 ? 1 : pad.buffer.length + 1,
    cbSecurityTrailer: sealedHeader.buffer.length,
  };
  return { status: S.SEC_E_OK, value };
}

function streamSizes(ctx: GssContext): AttributeOutcome {
  const iov = [G.GSS_IOV_BUFFER_TYPE_HEADER, G.GSS_IOV_BUFFER_TYPE_DATA, G.GSS_IOV_BUFFER_TYPE_PADDING, G.GSS_IOV_BUFFER_TYPE_TRAILER]
    .map((type) => ({ type, buffer: { length: type === G.GSS_IOV_BUFFER_TYPE_DATA ? 1 : 0, value: null } }));
  const r = wrapLengths(ctx, true, iov);
  if (isFailure(r)) return outcomeOf(r);
  const { fn } = G.gssapi();
  const max = [0];
  const major = fn.gss_wrap_size_limit([0], ctx.handle, 1, 0, 0x7fffffff, max);
  const value: A.SecPkgContextStreamSizes = {
    cbHeader: r[0].buffer.length,
    cbTrailer: r[3].buffer.length,
    cbMaximumMessage: gssError(major) ? 0x7fffffff - r[0].buffer.length - r[3].buffer.length : max[0] >>> 0,
    cBuffers: 4,
    cbBlockSize: r[2].buffer.length === 0 ? 1 : r[2].buffer.length + 1,
  };
  return { status: S.SEC_E_OK, value };
}

/** One attribute of an established (or, for some, partial) context. `established` is when the context completed. */
export function queryAttribute(
  ctx: GssContext,
  attribute: number,
  pkg: 'Kerberos' | 'Negotiate',
  negotiated: 'Kerberos' | 'NTLM',
  established: Date | undefined,
  isc: (gssFlags: number) => number,
): AttributeOutcome {
  switch (attribute) {
    case A.SECPKG_ATTR_PACKAGE_INFO:
      return { status: S.SEC_E_OK, value: packageInfo(negotiated) };
    case A.SECPKG_ATTR_NEGOTIATION_INFO:
      return {
        status: S.SEC_E_OK,
        value: { packageInfo: packageInfo(negotiated), negotiationState: established ? A.SECPKG_NEGOTIATION_COMPLETE : A.SECPKG_NEGOTIATION_IN_PROGRESS },
      };
    case A.SECPKG_ATTR_SIZES:
      return sizes(ctx);
    case A.SECPKG_ATTR_STREAM_SIZES:
      return streamSizes(ctx);
    case A.SECPKG_ATTR_SESSION_KEY:
      return sessionKey(ctx);
    case A.SECPKG_ATTR_NAMES:
    case A.SECPKG_ATTR_NATIVE_NAMES:
    case A.SECPKG_ATTR_LIFESPAN:
    case A.SECPKG_ATTR_FLAGS: {
      const info = inquire(ctx);
      if (isFailure(info)) return outcomeOf(info);
      if (attribute === A.SECPKG_ATTR_FLAGS) return { status: S.SEC_E_OK, value: { flags: isc(info.flags) } };
      if (attribute === A.SECPKG_ATTR_LIFESPAN) {
        return { status: S.SEC_E_OK, value: { start: established ?? new Date(), expiry: info.expiry } };
      }
      if (!info.client || !info.server) return { status: S.SEC_E_INTERNAL_ERROR, detail: 'the mechanism did not name the peers' };
      return attribute === A.SECPKG_ATTR_NAMES
        ? { status: S.SEC_E_OK, value: { userName: info.client } }
        : { status: S.SEC_E_OK, value: { clientName: info.client, serverName: info.server } };
    }
    default:
      return { status: S.SEC_E_UNSUPPORTED_FUNCTION, detail: `attribute ${attribute} is not available from ${pkg} over GSS-API` };
  }
}
