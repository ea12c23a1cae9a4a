// Describes a Negotiate or Kerberos token for debugging (the CLI's `decode`): framing, mechanisms, negState and the
// inner message type. Sizes only: never key material, ciphertext or MIC bytes. Never throws.
import { DerError, TAG, readAll, readOnly, readTlv } from './der.js';
import { MECH_OID, isKerberosOid } from './oids.js';
import { SpnegoError, decodeNegToken, unwrapInitialContextToken } from './tokens.js';

const MECH_NAMES: Record<string, string> = {
  [MECH_OID.SPNEGO]: 'SPNEGO',
  [MECH_OID.KRB5]: 'Kerberos 5',
  [MECH_OID.MS_KRB5]: 'Kerberos 5 (Microsoft OID)',
  [MECH_OID.NTLM]: 'NTLM',
  [MECH_OID.NEGOEX]: 'NegoEx',
  '1.2.840.113554.1.2.2.3': 'Kerberos 5 user-to-user',
  '1.3.6.1.5.2.5': 'IAKERB',
};

const FLAG_NAMES = ['deleg', 'mutual', 'replay', 'sequence', 'anon', 'conf', 'integ'];

/** KRB-ERROR codes (RFC 4120 §7.5.9) worth naming. */
const KRB_ERRORS: Record<number, string> = {
  6: 'KDC_ERR_C_PRINCIPAL_UNKNOWN', 7: 'KDC_ERR_S_PRINCIPAL_UNKNOWN', 14: 'KDC_ERR_ETYPE_NOSUPP', 18: 'KDC_ERR_CLIENT_REVOKED',
  23: 'KDC_ERR_KEY_EXPIRED', 24: 'KDC_ERR_PREAUTH_FAILED', 25: 'KDC_ERR_PREAUTH_REQUIRED', 31: 'KRB_AP_ERR_BAD_INTEGRITY',
  32: 'KRB_AP_ERR_TKT_EXPIRED', 33: 'KRB_AP_ERR_TKT_NYV', 34: 'KRB_AP_ERR_REPEAT', 35: 'KRB_AP_ERR_NOT_US',
  36: 'KRB_AP_ERR_BADMATCH', 37: 'KRB_AP_ERR_SKEW', 41: 'KRB_AP_ERR_MODIFIED', 44: 'KRB_AP_ERR_BADKEYVER',
  45: 'KRB_AP_ERR_NOKEY', 46: 'KRB_AP_ERR_MUT_FAIL', 60: 'KRB_ERR_GENERIC', 68: 'KDC_ERR_WRONG_REALM',
};

const KRB_TOK_IDS: Record<string, string> = { '0100': 'AP-REQ', '0200': 'AP-REP', '0300': 'KRB-ERROR', '0400': 'TGT-REQ', '0401': 'TGT-REP' };
const KRB_APPLICATION: Record<number, string> = { 0x6e: 'AP-REQ', 0x6f: 'AP-REP', 0x7e: 'KRB-ERROR' };

export interface KerberosDescription {
  message: string;
  size: number;
  /** AP-REQ: the ticket's service principal and realm (public, not secret). */
  service?: string;
  mutualRequired?: boolean;
  /** KRB-ERROR: the error code and its name. */
  errorCode?: number;
  errorName?: string;
  error?: string;
}

export interface TokenDescription {
  framing: 'spnego-init' | 'spnego-resp' | 'kerberos' | 'ntlm' | 'unknown';
  size: number;
  mechTypes?: Array<{ oid: string; name: string }>;
  reqFlags?: string[];
  negState?: string;
  supportedMech?: { oid: string; name: string };
  mechToken?: TokenDescription | KerberosDescription | { size: number };
  mechListMICSize?: number;
  ntlmMessageType?: number;
  error?: string;
}

const mech = (oid: string) => ({ oid, name: MECH_NAMES[oid] ?? 'unknown' });

function integer(value: Buffer): number {
  let n = 0;
  for (const b of value.subarray(0, 6)) n = n * 256 + b;
  return n;
}

/** The fields of a Kerberos SEQUENCE by context tag. */
function fields(seq: Buffer): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  for (const f of readAll(seq)) out.set(f.tag - 0xa0, f.value);
  return out;
}

function principal(sname: Buffer): string {
  const names = readAll(readOnly(fields(readOnly(sname, TAG.SEQUENCE, 'PrincipalName').value).get(1) ?? Buffer.alloc(0), TAG.SEQUENCE, 'name-string').value);
  return names.map((n) => n.value.toString('utf8')).join('/');
}

function describeKerberosMessage(msg: Buffer): KerberosDescription {
  const type = msg[0];
  const out: KerberosDescription = { message: KRB_APPLICATION[type] ?? `unknown (0x${(type ?? 0).toString(16)})`, size: msg.length };
  try {
    const app = readOnly(msg, type, 'Kerberos message');
    const body = fields(readOnly(app.value, TAG.SEQUENCE, 'Kerberos message').value);
    if (type === 0x6e) {
      const options = body.get(2);
      if (options) out.mutualRequired = (readOnly(options, TAG.BIT_STRING, 'ap-options').value[1] & 0x20) !== 0;
      const ticket = body.get(3);
      if (ticket) {
        const t = fields(readOnly(readOnly(ticket, 0x61, 'Ticket').value, TAG.SEQUENCE, 'Ticket').value);
        out.service = `${principal(t.get(2)!)}@${readTlv(t.get(1)!, 0).tlv.value.toString('utf8')}`;
      }
    } else if (type === 0x7e) {
      const code = body.get(6);
      if (code) {
        out.errorCode = integer(readOnly(code, 0x02, 'error-code').value);
        out.errorName = KRB_ERRORS[out.errorCode];
      }
    }
  } catch (err) {
    out.error = err instanceof DerError ? err.reason : 'malformed Kerberos message';
  }
  return out;
}

/** A Kerberos token (RFC 2743 framed or bare) described: message type, error code, service. */
export function describeKerberos(buf: Buffer): KerberosDescription | undefined {
  try {
    const { oid, inner } = unwrapInitialContextToken(buf);
    if (!isKerberosOid(oid)) return undefined;
    const tokId = inner.subarray(0, 2).toString('hex');
    const described = describeKerberosMessage(inner.subarray(2));
    if (KRB_TOK_IDS[tokId] && !described.message.startsWith('unknown')) return described;
    return { ...described, message: KRB_TOK_IDS[tokId] ?? `unknown TOK_ID ${tokId}` };
  } catch {
    return KRB_APPLICATION[buf[0]] ? describeKerberosMessage(buf) : undefined;
  }
}

function describeNtlm(buf: Buffer): number | undefined {
  if (buf.length >= 12 && buf.subarray(0, 8).toString('latin1') === 'NTLMSSP\0') return buf.readUInt32LE(8);
  return undefined;
}

function describeInner(buf: Buffer): TokenDescription | KerberosDescription | { size: number } {
  const krb = describeKerberos(buf);
  if (krb) return krb;
  const ntlm = describeNtlm(buf);
  if (ntlm !== undefined) return { framing: 'ntlm', size: buf.length, ntlmMessageType: ntlm };
  return { size: buf.length };
}

export function describeToken(input: Uint8Array): TokenDescription {
  const buf = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  const ntlm = describeNtlm(buf);
  if (ntlm !== undefined) return { framing: 'ntlm', size: buf.length, ntlmMessageType: ntlm };
  const krb = describeKerberos(buf);
  if (krb) return { framing: 'kerberos', size: buf.length, mechToken: krb };
  try {
    const decoded = decodeNegToken(buf);
    if (decoded.kind === 'init') {
      const t = decoded.token;
      const out: TokenDescription = { framing: 'spnego-init', size: buf.length, mechTypes: t.mechTypes.map(mech) };
      if (t.reqFlags !== undefined) out.reqFlags = FLAG_NAMES.filter((_, bit) => t.reqFlags! & (1 << bit));
      if (t.mechToken) out.mechToken = describeInner(t.mechToken);
      if (t.mechListMIC) out.mechListMICSize = t.mechListMIC.length;
      return out;
    }
    const t = decoded.token;
    const out: TokenDescription = { framing: 'spnego-resp', size: buf.length };
    if (t.negState) out.negState = t.negState;
    if (t.supportedMech) out.supportedMech = mech(t.supportedMech);
    if (t.responseToken) out.mechToken = describeInner(t.responseToken);
    if (t.mechListMIC) out.mechListMICSize = t.mechListMIC.length;
    return out;
  } catch (err) {
    return { framing: 'unknown', size: buf.length, error: err instanceof SpnegoError ? err.reason : 'not a token this tool knows' };
  }
}
