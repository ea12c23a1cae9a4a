// A structural check of the Kerberos tokens an acceptor sends back, before any GSS library parses them. Heimdal's
// krb5 mechanism reads past the end of a reply whose framing is inconsistent (a mutated OID in the RFC 2743 header:
// SIGSEGV in decode_AP_REP, found by the fuzz campaign), so a reply must be well-formed DER all the way down before
// it is handed over. MIT is not known to need this; the check is cheap and the same for every library.
import { DerError, TAG, decodeOid, readHeader, readTlv } from './der.js';
import { describeKerberos } from './describe.js';
import { isKerberosOid } from './oids.js';

/** TOK_IDs of RFC 4121 §4.1 context tokens an initiator can receive: AP-REP, KRB-ERROR. */
const REPLY_TOK_IDS = new Set([0x0200, 0x0300]);
const MAX_DEPTH = 24;

/** Every constructed TLV's content is exactly a sequence of TLVs, recursively (bounded depth, iteration only). */
export function checkDer(buf: Buffer): void {
  // Offsets into `buf`, not views of it: an AP-REP has dozens of TLVs, and every second leg walks one.
  const stack: number[] = [0, buf.length, 0];
  while (stack.length) {
    const depth = stack.pop()!;
    const end = stack.pop()!;
    for (let offset = stack.pop()!; offset < end; ) {
      const tlv = readHeader(buf, offset, end);
      if (tlv.tag & 0x20) {
        if (depth >= MAX_DEPTH) throw new DerError('nested too deeply');
        stack.push(tlv.start, tlv.end, depth + 1);
      }
      offset = tlv.end;
    }
  }
}

/**
 * Why `token` cannot be a Kerberos reply (an AP-REP or KRB-ERROR in RFC 2743 framing, or a bare one in DCE style),
 * or undefined when it is well-formed.
 */
export function krb5ReplyProblem(token: Buffer, dceStyle: boolean): string | undefined {
  try {
    const first = token[0];
    // DCE style: the bare AP-REP ([APPLICATION 15]) or KRB-ERROR ([APPLICATION 30]).
    if (dceStyle && (first === 0x6f || first === 0x7e)) {
      const { next } = readTlv(token, 0);
      if (next !== token.length) return 'trailing bytes after the Kerberos message';
      checkDer(token);
      return undefined;
    }
    const { tlv: outer, next } = readTlv(token, 0);
    if (outer.tag !== TAG.APPLICATION_0 || next !== token.length) return 'not an RFC 2743 token that fills the buffer';
    const { tlv: oid, next: afterOid } = readTlv(outer.value, 0);
    if (oid.tag !== TAG.OID || !isKerberosOid(decodeOid(oid.value))) return 'the token is not for the Kerberos mechanism';
    if (afterOid + 2 > outer.value.length) return 'the token has no TOK_ID';
    if (!REPLY_TOK_IDS.has(outer.value.readUInt16BE(afterOid))) return 'the token is neither an AP-REP nor a KRB-ERROR';
    const message = outer.value.subarray(afterOid + 2);
    const { next: end } = readTlv(message, 0);
    if (end !== message.length) return 'trailing bytes after the Kerberos message';
    checkDer(message);
    return undefined;
  } catch (err) {
    if (err instanceof DerError) return `malformed Kerberos token: ${err.reason}`;
    throw err;
  }
}

/** KRB_AP_ERR_SKEW's error-code (RFC 4120 §7.5.9). */
export const KRB_AP_ERR_SKEW = 37;
/** KRB_AP_ERR_TKT_EXPIRED's error-code (RFC 4120 §7.5.9): a ticket past its end time. */
export const KRB_AP_ERR_TKT_EXPIRED = 32;
/** KRB_ERR_GENERIC's error-code (RFC 4120 §7.5.9): what MIT's acceptor sends for a channel-binding mismatch. */
export const KRB_ERR_GENERIC = 60;

/**
 * The error-code of a KRB-ERROR reply, or undefined for anything else. A skew error is answered by us, not by the
 * library: Heimdal retries on its own with the acceptor's clock and keeps that offset for the process's later
 * authentications (one skewed or hostile acceptor then breaks the others), where SSPI reports SEC_E_TIME_SKEW.
 */
export function krbErrorCode(token: Buffer): number | undefined {
  if (!mayBeKrbError(token)) return undefined;
  const d = describeKerberos(token);
  return d?.message === 'KRB-ERROR' ? d.errorCode : undefined;
}

/**
 * Whether the Kerberos message in `token`, bare or after its RFC 2743 header and TOK_ID, opens with KRB-ERROR's tag
 * ([APPLICATION 30]): describeKerberos finds an error-code in nothing else. Every second leg asks, and an AP-REP
 * is then answered from two TLV headers instead of a full description.
 */
function mayBeKrbError(token: Buffer): boolean {
  if (token[0] === 0x7e) return true;
  if (token[0] !== TAG.APPLICATION_0) return false;
  try {
    const { tlv: outer } = readTlv(token, 0);
    const { next } = readTlv(outer.value, 0);
    return outer.value[next + 2] === 0x7e;
  } catch {
    return false;
  }
}
