// SPNEGO message types (RFC 4178 §4.2) and their strict DER codec, plus the RFC 2743 §3.1 initial-token framing.
import { DerError, TAG, decodeOid, oidTlv, readAll, readOnly, readTlv, tlv, type Tlv } from './der.js';
import { MECH_OID } from './oids.js';

export { MECH_OID };

export type NegState = 'accept-completed' | 'accept-incomplete' | 'reject' | 'request-mic';
const NEG_STATES: readonly NegState[] = ['accept-completed', 'accept-incomplete', 'reject', 'request-mic'];

export interface NegTokenInit {
  mechTypes: string[];
  /** GSS flag bits (ContextFlags bit n -> 1 << n). */
  reqFlags?: number;
  mechToken?: Buffer;
  mechListMIC?: Buffer;
  /** Exact DER of the MechTypeList as received: what a mechListMIC covers. */
  mechTypesDer: Buffer;
}

export interface NegTokenResp {
  negState?: NegState;
  supportedMech?: string;
  responseToken?: Buffer;
  mechListMIC?: Buffer;
}

export type NegToken = { kind: 'init'; token: NegTokenInit } | { kind: 'resp'; token: NegTokenResp };

/** A malformed SPNEGO token. Decoding throws only this. */
export class SpnegoError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'SpnegoError';
  }
}

/** DER SEQUENCE OF MechType: the bytes both mechListMICs are computed over. */
export function encodeMechTypeList(mechTypes: readonly string[]): Buffer {
  return tlv(TAG.SEQUENCE, ...mechTypes.map(oidTlv));
}

/** ContextFlags as a DER BIT STRING (bit 0 is the most significant bit of the first octet, trailing zeros cut). */
function encodeFlags(flags: number): Buffer {
  let highest = -1;
  for (let bit = 0; bit < 32; bit++) if (flags & (1 << bit)) highest = bit;
  if (highest < 0) return tlv(TAG.BIT_STRING, Buffer.from([0]));
  const bytes = Buffer.alloc(Math.floor(highest / 8) + 1);
  for (let bit = 0; bit <= highest; bit++) if (flags & (1 << bit)) bytes[bit >> 3] |= 0x80 >> (bit & 7);
  return tlv(TAG.BIT_STRING, Buffer.from([7 - (highest & 7)]), bytes);
}

function decodeFlags(value: Buffer): number {
  if (value.length === 0 || value[0] > 7 || (value.length === 1 && value[0] !== 0)) throw new DerError('malformed ContextFlags');
  let flags = 0;
  for (let bit = 0; bit < Math.min((value.length - 1) * 8, 32); bit++) {
    if (value[1 + (bit >> 3)] & (0x80 >> (bit & 7))) flags |= 1 << bit;
  }
  return flags >>> 0;
}

/** The initial token: [APPLICATION 0] { SPNEGO OID, [0] NegTokenInit }. */
export function encodeNegTokenInit(init: { mechTypes: readonly string[]; reqFlags?: number; mechToken?: Buffer; mechListMIC?: Buffer }): Buffer {
  if (init.mechTypes.length === 0) throw new TypeError('mechTypes must not be empty');
  const fields = [tlv(TAG.context(0), encodeMechTypeList(init.mechTypes))];
  if (init.reqFlags !== undefined) fields.push(tlv(TAG.context(1), encodeFlags(init.reqFlags)));
  if (init.mechToken) fields.push(tlv(TAG.context(2), tlv(TAG.OCTET_STRING, init.mechToken)));
  if (init.mechListMIC) fields.push(tlv(TAG.context(3), tlv(TAG.OCTET_STRING, init.mechListMIC)));
  return wrapInitialContextToken(MECH_OID.SPNEGO, tlv(TAG.context(0), tlv(TAG.SEQUENCE, ...fields)));
}

/** [1] NegTokenResp. */
export function encodeNegTokenResp(resp: NegTokenResp): Buffer {
  const fields: Buffer[] = [];
  if (resp.negState !== undefined) fields.push(tlv(TAG.context(0), tlv(TAG.ENUMERATED, Buffer.from([NEG_STATES.indexOf(resp.negState)]))));
  if (resp.supportedMech !== undefined) fields.push(tlv(TAG.context(1), oidTlv(resp.supportedMech)));
  if (resp.responseToken) fields.push(tlv(TAG.context(2), tlv(TAG.OCTET_STRING, resp.responseToken)));
  if (resp.mechListMIC) fields.push(tlv(TAG.context(3), tlv(TAG.OCTET_STRING, resp.mechListMIC)));
  return tlv(TAG.context(1), tlv(TAG.SEQUENCE, ...fields));
}

/** RFC 2743 §3.1: [APPLICATION 0] IMPLICIT SEQUENCE { thisMech OID, innerToken ANY }. */
export function wrapInitialContextToken(oid: string, inner: Buffer): Buffer {
  return tlv(TAG.APPLICATION_0, oidTlv(oid), inner);
}

export function unwrapInitialContextToken(buf: Uint8Array): { oid: string; inner: Buffer } {
  return guard(() => {
    const outer = readOnly(Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength), TAG.APPLICATION_0, 'InitialContextToken');
    const { tlv: oid, next } = readTlv(outer.value, 0);
    if (oid.tag !== TAG.OID) throw new DerError('InitialContextToken: the mechanism OID is missing');
    return { oid: decodeOid(oid.value), inner: outer.value.subarray(next) };
  });
}

/** The fields of a SPNEGO SEQUENCE by context tag, each at most once and in increasing order. */
function fieldsOf(seq: Tlv, allowed: readonly number[], what: string): Map<number, Tlv> {
  if (seq.tag !== TAG.SEQUENCE) throw new DerError(`${what}: a SEQUENCE was expected`);
  const fields = new Map<number, Tlv>();
  let last = -1;
  for (const field of readAll(seq.value)) {
    const n = field.tag - 0xa0;
    if (n < 0 || n > 31 || !allowed.includes(n)) throw new DerError(`${what}: unexpected field tag 0x${field.tag.toString(16)}`);
    if (n <= last) throw new DerError(`${what}: fields out of order or repeated`);
    last = n;
    fields.set(n, field);
  }
  return fields;
}

const octets = (field: Tlv | undefined, what: string): Buffer | undefined =>
  field && Buffer.from(readOnly(field.value, TAG.OCTET_STRING, what).value);

function decodeInit(body: Buffer): NegTokenInit {
  const seq = readOnly(body, TAG.SEQUENCE, 'NegTokenInit');
  // NegTokenInit2 (Microsoft) has negHints at [3] and mechListMIC at [4]; both shapes share [0]-[2].
  const fields = fieldsOf(seq, [0, 1, 2, 3, 4], 'NegTokenInit');
  const list = fields.get(0);
  if (!list) throw new DerError('NegTokenInit: mechTypes missing');
  const mechTypesTlv = readOnly(list.value, TAG.SEQUENCE, 'mechTypes');
  const mechTypes = readAll(mechTypesTlv.value).map((t) => {
    if (t.tag !== TAG.OID) throw new DerError('mechTypes: an OID was expected');
    return decodeOid(t.value);
  });
  if (mechTypes.length === 0) throw new DerError('mechTypes is empty');
  const token: NegTokenInit = { mechTypes, mechTypesDer: Buffer.from(mechTypesTlv.raw) };
  const flags = fields.get(1);
  if (flags) token.reqFlags = decodeFlags(readOnly(flags.value, TAG.BIT_STRING, 'reqFlags').value);
  const mechToken = octets(fields.get(2), 'mechToken');
  if (mechToken) token.mechToken = mechToken;
  // [3] is mechListMIC (an OCTET STRING) in RFC 4178 and negHints (a SEQUENCE) in NegTokenInit2.
  const three = fields.get(3);
  if (three && readTlv(three.value, 0).tlv.tag === TAG.OCTET_STRING) token.mechListMIC = octets(three, 'mechListMIC');
  else if (three) readOnly(three.value, TAG.SEQUENCE, 'negHints');
  const mic4 = octets(fields.get(4), 'mechListMIC');
  if (mic4) {
    if (token.mechListMIC) throw new DerError('NegTokenInit: two mechListMICs');
    token.mechListMIC = mic4;
  }
  return token;
}

function decodeResp(body: Buffer): NegTokenResp {
  const fields = fieldsOf(readOnly(body, TAG.SEQUENCE, 'NegTokenResp'), [0, 1, 2, 3], 'NegTokenResp');
  const token: NegTokenResp = {};
  const state = fields.get(0);
  if (state) {
    const e = readOnly(state.value, TAG.ENUMERATED, 'negState').value;
    if (e.length !== 1 || e[0] >= NEG_STATES.length) throw new DerError('negState: unknown value');
    token.negState = NEG_STATES[e[0]];
  }
  const mech = fields.get(1);
  if (mech) token.supportedMech = decodeOid(readOnly(mech.value, TAG.OID, 'supportedMech').value);
  const responseToken = octets(fields.get(2), 'responseToken');
  if (responseToken) token.responseToken = responseToken;
  const mic = octets(fields.get(3), 'mechListMIC');
  if (mic) token.mechListMIC = mic;
  return token;
}

function guard<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof SpnegoError) throw err;
    throw new SpnegoError(err instanceof DerError ? err.reason : 'malformed token');
  }
}

/** Decodes the framed initial token, a bare [0] NegTokenInit or a [1] NegTokenResp. Throws only SpnegoError. */
export function decodeNegToken(input: Uint8Array): NegToken {
  return guard(() => {
    const buf = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
    if (buf.length > 0 && buf[0] === TAG.APPLICATION_0) {
      const { oid, inner } = unwrapInitialContextToken(buf);
      if (oid !== MECH_OID.SPNEGO) throw new DerError('the initial token is not SPNEGO');
      return { kind: 'init', token: decodeInit(readOnly(inner, TAG.context(0), 'NegotiationToken').value) };
    }
    const choice = readOnly(buf, buf[0] ?? -1, 'NegotiationToken');
    if (choice.tag === TAG.context(0)) return { kind: 'init', token: decodeInit(choice.value) };
    if (choice.tag === TAG.context(1)) return { kind: 'resp', token: decodeResp(choice.value) };
    throw new DerError('NegotiationToken: neither negTokenInit nor negTokenResp');
  });
}
