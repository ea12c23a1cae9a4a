// What an acceptor checks of a Kerberos token before any GSS library parses it (this is unauthenticated network
// input): the RFC 2743 framed AP-REQ of a first leg (or a bare one, as MIT also takes), the bare AP-REP of a DCE-style
// third leg, well-formed DER all the way down (bounded depth, no recursion). Heimdal's parsers read past the end of
// inconsistent framing in the initiator's direction (krb5-token.ts); the same guard stands in this direction.
// Also the replay-cache key of an AP-REQ: its authenticator's ciphertext.
import { createHash } from 'node:crypto';
import { DerError, TAG, decodeOid, readOnly, readTlv, readAll } from '../protocol/der.js';
import { isKerberosOid } from '../protocol/oids.js';
import { checkDer } from '../protocol/krb5-token.js';

const AP_REQ = 0x6e;
const AP_REP = 0x6f;
const TOK_AP_REQ = 0x0100;

/** The bare Kerberos message of an acceptor's input, or why it is not one. */
function message(token: Buffer, first: boolean): Buffer | string {
  if (token[0] === AP_REQ && first) return token;
  if (token[0] === AP_REP && !first) return token;
  const { tlv: outer, next } = readTlv(token, 0);
  if (outer.tag !== TAG.APPLICATION_0 || next !== token.length) return 'not an RFC 2743 token that fills the buffer';
  const { tlv: oid, next: afterOid } = readTlv(outer.value, 0);
  if (oid.tag !== TAG.OID || !isKerberosOid(decodeOid(oid.value))) return 'the token is not for the Kerberos mechanism';
  if (afterOid + 2 > outer.value.length) return 'the token has no TOK_ID';
  if (!first || outer.value.readUInt16BE(afterOid) !== TOK_AP_REQ) return 'the token is not an AP-REQ';
  return outer.value.subarray(afterOid + 2);
}

/** Why `token` cannot be what a Kerberos acceptor expects (`first`: an AP-REQ; later: a DCE AP-REP), or undefined. */
export function krb5RequestProblem(token: Buffer, first: boolean): string | undefined {
  try {
    const msg = message(token, first);
    if (typeof msg === 'string') return msg;
    const { tlv, next } = readTlv(msg, 0);
    if (tlv.tag !== (first ? AP_REQ : AP_REP)) return first ? 'the token is not an AP-REQ' : 'the token is not an AP-REP';
    if (next !== msg.length) return 'trailing bytes after the Kerberos message';
    checkDer(msg);
    return undefined;
  } catch (err) {
    if (err instanceof DerError) return `malformed Kerberos token: ${err.reason}`;
    throw err;
  }
}

/**
 * The replay-cache key of a first-leg AP-REQ: a hash of its authenticator's ciphertext (RFC 4120 §5.5.1,
 * authenticator [4] EncryptedData, cipher [2]), which an attacker cannot vary without the session key. The same
 * authenticator under another framing or other ap-options has the same key. Undefined when there is none.
 */
export function authenticatorKey(token: Buffer): string | undefined {
  try {
    const msg = message(token, true);
    if (typeof msg === 'string') return undefined;
    const req = readOnly(readOnly(msg, AP_REQ, 'AP-REQ').value, TAG.SEQUENCE, 'AP-REQ');
    const auth = readAll(req.value).find((f) => f.tag === 0xa4);
    if (!auth) return undefined;
    const enc = readOnly(auth.value, TAG.SEQUENCE, 'EncryptedData');
    const cipher = readAll(enc.value).find((f) => f.tag === 0xa2);
    if (!cipher) return undefined;
    return createHash('sha256').update(readOnly(cipher.value, 0x04, 'cipher').value).digest('base64');
  } catch {
    return undefined;
  }
}
