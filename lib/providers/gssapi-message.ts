// Message protection over GSS: EncryptMessage/DecryptMessage through gss_wrap_iov/gss_unwrap_iov on the caller's
// own buffers (no copy: the library reads and writes them in place, as SSPI does), MakeSignature/VerifySignature
// through gss_get_mic/gss_verify_mic. Windows' layouts map onto IOV types one to one; a TOKEN buffer is an IOV
// HEADER with the trailer rotated into it (RFC 4121 RRC), which is exactly the token Windows' Kerberos writes.
import koffi from 'koffi';
import * as G from '../../ffi/gssapi.js';
import { SECQOP_WRAP_NO_ENCRYPT } from '../vocabulary/attributes.js';
import * as F from '../vocabulary/flags.js';
import * as S from '../vocabulary/status.js';
import { isFailure, outcomeOf, type Failure } from './failure.js';
import { emptyToken, gssFailure, ownFailure, type GssContext } from './gssapi-native.js';
import { GSS_S_DEFECTIVE_TOKEN, GSS_S_UNAVAILABLE, gssError } from '../../ffi/gss-status.js';
import type { MessageBuffer, MessageOutcome, ProviderContext } from './provider.js';

/** SECBUFFER type (with attributes) -> IOV type; undefined: not ours to touch. */
function iovType(type: number): number | undefined {
  const base = type & ~F.SECBUFFER_ATTRMASK;
  switch (base) {
    case F.SECBUFFER_TOKEN:
    case F.SECBUFFER_STREAM_HEADER:
      return G.GSS_IOV_BUFFER_TYPE_HEADER;
    case F.SECBUFFER_STREAM_TRAILER:
      return G.GSS_IOV_BUFFER_TYPE_TRAILER;
    case F.SECBUFFER_PADDING:
      return G.GSS_IOV_BUFFER_TYPE_PADDING;
    case F.SECBUFFER_STREAM:
      return G.GSS_IOV_BUFFER_TYPE_STREAM;
    case F.SECBUFFER_DATA:
      // READONLY_WITH_CHECKSUM: signed, not encrypted; READONLY: neither (SSPI semantics).
      if (type & F.SECBUFFER_READONLY_WITH_CHECKSUM) return G.GSS_IOV_BUFFER_TYPE_SIGN_ONLY;
      if (type & F.SECBUFFER_READONLY) return undefined;
      return G.GSS_IOV_BUFFER_TYPE_DATA;
    default:
      return undefined;
  }
}

interface Iov {
  type: number;
  buffer: { length: number; value: bigint | null };
}

/** The address of a Uint8Array's bytes, for a synchronous call that reads or writes them in place. */
const addressOf = (b: Uint8Array): bigint | null => (b.byteLength ? (koffi.address(b) as bigint) : null);

function unavailable(name: string): MessageOutcome {
  return outcomeOf(ownFailure(GSS_S_UNAVAILABLE, `this GSS library has no ${name}`));
}

/** Sizes the IOV buffers of a wrap would need (header, trailer, padding) for these data lengths. */
export function wrapLengths(ctx: GssContext, conf: boolean, iov: Iov[]): Iov[] | Failure {
  const { fn } = G.gssapi();
  if (!fn.gss_wrap_iov_length) return ownFailure(GSS_S_UNAVAILABLE, 'this GSS library has no gss_wrap_iov_length');
  const sized = iov.map((v) => ({ type: v.type, buffer: { length: v.type === G.GSS_IOV_BUFFER_TYPE_DATA || v.type === G.GSS_IOV_BUFFER_TYPE_SIGN_ONLY ? v.buffer.length : 0, value: null } }));
  const minor = [0];
  const major = fn.gss_wrap_iov_length(minor, ctx.handle, conf ? 1 : 0, 0, [0], sized, sized.length);
  return gssError(major) ? gssFailure(major, minor[0], ctx.mech) : sized;
}

const isData = (type: number) => type === G.GSS_IOV_BUFFER_TYPE_DATA || type === G.GSS_IOV_BUFFER_TYPE_SIGN_ONLY;

/**
 * What each IOV buffer of a wrap needs (data buffers: their own length), and whether that is the same for any data
 * length. Kept per context and layout once a wrap shows an RFC 4121 token (TOK_ID 05 04: a fixed 16-byte header,
 * no ASN.1 length) and one byte more of data changes nothing: EncryptMessage then makes one native call, not two.
 */
function sizesFor(ctx: GssContext, key: string, conf: boolean, iov: Iov[]): { needs: number[]; constant: boolean } | Failure {
  const known = ctx.wrapSizes.get(key);
  if (known) return { needs: iov.map((v, i) => (isData(v.type) ? v.buffer.length : known[i])), constant: true };
  const sized = wrapLengths(ctx, conf, iov);
  if (isFailure(sized)) return sized;
  const needs = sized.map((v) => v.buffer.length);
  if (known === null) return { needs, constant: false };
  const longer = wrapLengths(ctx, conf, iov.map((v) => ({ type: v.type, buffer: { length: v.buffer.length + (isData(v.type) ? 1 : 0), value: null } })));
  const constant = !isFailure(longer) && longer.every((v, i) => isData(v.type) || v.buffer.length === needs[i]);
  if (!constant) ctx.wrapSizes.set(key, null);
  return { needs, constant };
}

export function encrypt(ctx: GssContext, qop: number, buffers: MessageBuffer[]): MessageOutcome {
  const { fn } = G.gssapi();
  if (!fn.gss_wrap_iov) return unavailable('gss_wrap_iov');
  if (qop !== 0 && qop !== SECQOP_WRAP_NO_ENCRYPT) return { status: S.SEC_E_QOP_NOT_SUPPORTED, detail: `QOP 0x${(qop >>> 0).toString(16)} is not supported` };
  const conf = qop !== SECQOP_WRAP_NO_ENCRYPT;
  const slots = buffers.map((b, index) => ({ index, type: iovType(b.type) })).filter((s) => s.type !== undefined && s.type !== G.GSS_IOV_BUFFER_TYPE_STREAM);
  if (!slots.some((s) => s.type === G.GSS_IOV_BUFFER_TYPE_HEADER)) {
    return { status: S.SEC_E_INVALID_TOKEN, detail: 'EncryptMessage needs a SECBUFFER_TOKEN (or SECBUFFER_STREAM_HEADER) buffer' };
  }
  const iov: Iov[] = slots.map((s) => ({ type: s.type!, buffer: { length: buffers[s.index].buffer.byteLength, value: null } }));
  const key = `${conf ? 1 : 0}:${iov.map((v) => v.type).join(',')}`;
  const sized = sizesFor(ctx, key, conf, iov);
  if (isFailure(sized)) return outcomeOf(sized);
  const needs = sized.needs;
  // The caller's header, trailer and padding buffers must hold what the mechanism writes there.
  for (let i = 0; i < slots.length; i++) {
    const need = needs[i];
    if (need > buffers[slots[i].index].buffer.byteLength) {
      return { status: S.SEC_E_BUFFER_TOO_SMALL, detail: `buffer ${slots[i].index} needs ${need} bytes (see SECPKG_ATTR_SIZES)` };
    }
    iov[i].buffer = { length: need, value: addressOf(buffers[slots[i].index].buffer) };
  }
  const minor = [0];
  const major = fn.gss_wrap_iov(minor, ctx.handle, conf ? 1 : 0, 0, [0], iov, iov.length);
  if (gssError(major)) return outcomeOf(gssFailure(major, minor[0], ctx.mech));
  if (sized.constant && !ctx.wrapSizes.has(key)) {
    const header = buffers[slots.find((s) => s.type === G.GSS_IOV_BUFFER_TYPE_HEADER)!.index].buffer;
    if (header[0] === 0x05 && header[1] === 0x04) ctx.wrapSizes.set(key, needs);
  }
  const out = buffers.map((b) => ({ type: b.type, buffer: b.buffer }));
  slots.forEach((s, i) => (out[s.index] = { type: buffers[s.index].type, buffer: buffers[s.index].buffer.subarray(0, iov[i].buffer.length) }));
  return { status: S.SEC_E_OK, buffers: out };
}

/**
 * A peer's wrap token must start as one: RFC 4121 (TOK_ID 05 04) or the RFC 1964 framing (0x60). Checked before
 * the library parses it: MIT 1.20's gss_unwrap_iov crashed (SIGSEGV) on short unframed RFC 1964-style tokens in
 * our fuzz campaign, where gss_unwrap refuses them.
 */
function plausibleWrapToken(b: Uint8Array): boolean {
  return (b.length >= 16 && b[0] === 0x05 && b[1] === 0x04) || (b.length >= 2 && b[0] === 0x60);
}

const implausible = () => outcomeOf(ownFailure(GSS_S_DEFECTIVE_TOKEN, 'not a Kerberos wrap token'));

export function decrypt(ctx: GssContext, buffers: MessageBuffer[]): MessageOutcome {
  const slots = buffers.map((b, index) => ({ index, type: iovType(b.type) })).filter((s) => s.type !== undefined);
  const stream = slots.find((s) => s.type === G.GSS_IOV_BUFFER_TYPE_STREAM);
  const header = slots.find((s) => s.type === G.GSS_IOV_BUFFER_TYPE_HEADER);
  if (!stream && !header) {
    return { status: S.SEC_E_INVALID_TOKEN, detail: 'DecryptMessage needs a SECBUFFER_STREAM, or a SECBUFFER_TOKEN with the DATA' };
  }
  const token = buffers[(stream ?? header)!.index].buffer;
  if (token.byteLength === 0) return outcomeOf(emptyToken());
  if (!plausibleWrapToken(token)) return implausible();
  const out = buffers.map((b) => ({ type: b.type, buffer: b.buffer }));

  if (stream) {
    // The whole token: gss_unwrap (one copy of the plaintext) rather than gss_unwrap_iov with a STREAM buffer,
    // which MIT 1.20 does not parse safely. The plaintext is copied back into the STREAM buffer, where SSPI puts it.
    const r = ctx.unwrap(Buffer.from(token.buffer, token.byteOffset, token.byteLength), token);
    if (isFailure(r)) return outcomeOf(r);
    const data = slots.find((s) => s.type === G.GSS_IOV_BUFFER_TYPE_DATA);
    if (data) out[data.index] = { type: buffers[data.index].type, buffer: r.data };
    return { status: S.SEC_E_OK, buffers: out, qop: r.encrypted ? 0 : SECQOP_WRAP_NO_ENCRYPT };
  }

  const { fn } = G.gssapi();
  if (!fn.gss_unwrap_iov) return unavailable('gss_unwrap_iov');
  // [TOKEN, DATA(, PADDING)]: in place, as EncryptMessage wrote them.
  const iov: Iov[] = slots.map((s) => {
    const b = buffers[s.index].buffer;
    return { type: s.type!, buffer: { length: b.byteLength, value: addressOf(b) } };
  });
  const minor = [0];
  const confState = [0];
  const major = fn.gss_unwrap_iov(minor, ctx.handle, confState, [0], iov, iov.length);
  if (major !== 0) return outcomeOf(gssFailure(major, minor[0], ctx.mech));
  slots.forEach((s, i) => {
    if (s.type === G.GSS_IOV_BUFFER_TYPE_PADDING || s.type === G.GSS_IOV_BUFFER_TYPE_HEADER) {
      out[s.index] = { type: buffers[s.index].type, buffer: buffers[s.index].buffer.subarray(0, iov[i].buffer.length) };
    }
  });
  return { status: S.SEC_E_OK, buffers: out, qop: confState[0] ? 0 : SECQOP_WRAP_NO_ENCRYPT };
}

/** The DATA buffers MakeSignature/VerifySignature cover, in order (SSPI signs every DATA buffer). */
function signedData(buffers: MessageBuffer[]): Buffer {
  const data = buffers.filter((b) => (b.type & ~F.SECBUFFER_ATTRMASK) === F.SECBUFFER_DATA).map((b) => b.buffer);
  return data.length === 1 ? Buffer.from(data[0].buffer, data[0].byteOffset, data[0].byteLength) : Buffer.concat(data);
}

const tokenIndex = (buffers: MessageBuffer[]) => buffers.findIndex((b) => (b.type & ~F.SECBUFFER_ATTRMASK) === F.SECBUFFER_TOKEN);

export function sign(ctx: GssContext, qop: number, buffers: MessageBuffer[]): MessageOutcome {
  if (qop !== 0) return { status: S.SEC_E_QOP_NOT_SUPPORTED, detail: 'MakeSignature supports only the default QOP (0)' };
  const slot = tokenIndex(buffers);
  if (slot < 0) return { status: S.SEC_E_INVALID_TOKEN, detail: 'MakeSignature needs a SECBUFFER_TOKEN buffer for the signature' };
  const mic = ctx.getMic(signedData(buffers));
  if (isFailure(mic)) return outcomeOf(mic);
  const dest = buffers[slot].buffer;
  if (mic.length > dest.byteLength) return { status: S.SEC_E_BUFFER_TOO_SMALL, detail: `the signature needs ${mic.length} bytes (SECPKG_ATTR_SIZES.cbMaxSignature)` };
  dest.set(mic);
  const out = buffers.map((b) => ({ type: b.type, buffer: b.buffer }));
  out[slot] = { type: buffers[slot].type, buffer: dest.subarray(0, mic.length) };
  return { status: S.SEC_E_OK, buffers: out };
}

export function verify(ctx: GssContext, buffers: MessageBuffer[]): MessageOutcome {
  const slot = tokenIndex(buffers);
  if (slot < 0) return { status: S.SEC_E_INVALID_TOKEN, detail: 'VerifySignature needs the SECBUFFER_TOKEN holding the signature' };
  const t = buffers[slot].buffer;
  const bad = ctx.verifyMic(signedData(buffers), Buffer.from(t.buffer, t.byteOffset, t.byteLength));
  return bad ? outcomeOf(bad) : { status: S.SEC_E_OK, qop: 0 };
}

/**
 * The four per-message calls of the GSS providers, the initiator's (GssapiProvider) and the acceptor's (GssAcceptor):
 * each on the context's `mech` once `unusable` (not established, expired) has nothing to say against it.
 */
export abstract class GssMessageCalls {
  protected abstract unusable(context: ProviderContext): MessageOutcome | undefined;

  encryptMessage(context: ProviderContext, qop: number, buffers: MessageBuffer[]): MessageOutcome {
    return this.unusable(context) ?? encrypt(mechOf(context), qop, buffers);
  }

  decryptMessage(context: ProviderContext, buffers: MessageBuffer[]): MessageOutcome {
    return this.unusable(context) ?? decrypt(mechOf(context), buffers);
  }

  makeSignature(context: ProviderContext, qop: number, buffers: MessageBuffer[]): MessageOutcome {
    return this.unusable(context) ?? sign(mechOf(context), qop, buffers);
  }

  verifySignature(context: ProviderContext, buffers: MessageBuffer[]): MessageOutcome {
    return this.unusable(context) ?? verify(mechOf(context), buffers);
  }
}

const mechOf = (context: ProviderContext): GssContext => (context as ProviderContext & { mech: GssContext }).mech;
