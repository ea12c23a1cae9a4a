// RFC 5929 tls-server-end-point: "tls-server-end-point:" followed by the hash of the server's certificate (DER), the
// hash being the one in the certificate's signature algorithm, except that MD5 and SHA-1 become SHA-256. An
// algorithm without a single hash (Ed25519, Ed448) has no defined binding: that is reported, never guessed.
import { createHash } from 'node:crypto';
import { DerError, TAG, decodeOid, readAll, readOnly } from '../../protocol/der.js';
import { HttpNegotiateError } from './errors.js';

const PREFIX = Buffer.from('tls-server-end-point:', 'latin1');

/** Signature algorithm OID -> the hash RFC 5929 says to use. */
const HASH_BY_SIGNATURE: Record<string, string> = {
  '1.2.840.113549.1.1.4': 'sha256', // md5WithRSAEncryption
  '1.2.840.113549.1.1.5': 'sha256', // sha1WithRSAEncryption
  '1.2.840.113549.1.1.14': 'sha224',
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.10045.4.1': 'sha256', // ecdsa-with-SHA1
  '1.2.840.10045.4.3.1': 'sha224',
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
  '1.2.840.10040.4.3': 'sha256', // dsa-with-sha1
  '2.16.840.1.101.3.4.3.1': 'sha224', // dsa-with-sha224
  '2.16.840.1.101.3.4.3.2': 'sha256', // dsa-with-sha256
};

/** Hash OIDs that may appear in RSASSA-PSS parameters. */
const HASH_BY_OID: Record<string, string> = {
  '1.3.14.3.2.26': 'sha256', // SHA-1 -> SHA-256
  '2.16.840.1.101.3.4.2.4': 'sha224',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

const RSASSA_PSS = '1.2.840.113549.1.1.10';

function unavailable(why: string): never {
  throw new HttpNegotiateError('CHANNEL_BINDINGS_UNAVAILABLE', `no tls-server-end-point channel binding: ${why}`);
}

/** The hash algorithm for a DER certificate's tls-server-end-point binding. */
export function endPointHash(certDer: Uint8Array): string {
  let algorithm: string;
  let params: Buffer | undefined;
  try {
    const cert = readOnly(Buffer.from(certDer.buffer, certDer.byteOffset, certDer.byteLength), TAG.SEQUENCE, 'Certificate');
    const [, sigAlg] = readAll(cert.value);
    if (!sigAlg || sigAlg.tag !== TAG.SEQUENCE) unavailable('the certificate has no signature algorithm');
    const [oid, rest] = readAll(sigAlg.value);
    if (!oid || oid.tag !== TAG.OID) unavailable('the signature algorithm is not an OID');
    algorithm = decodeOid(oid.value);
    params = rest?.value;
  } catch (err) {
    if (err instanceof DerError) unavailable(`the certificate is not DER (${err.reason})`);
    throw err;
  }
  if (algorithm === RSASSA_PSS) return pssHash(params);
  return HASH_BY_SIGNATURE[algorithm] ?? unavailable(`signature algorithm ${algorithm} has no single hash (RFC 5929 section 4.1)`);
}

/** RSASSA-PSS-params: [0] hashAlgorithm, default SHA-1 (which RFC 5929 turns into SHA-256). */
function pssHash(params: Buffer | undefined): string {
  try {
    const hashField = params ? readAll(params).find((t) => t.tag === TAG.context(0)) : undefined;
    if (!hashField) return 'sha256';
    const algId = readOnly(hashField.value, TAG.SEQUENCE, 'hashAlgorithm');
    const [oid] = readAll(algId.value);
    const dotted = oid?.tag === TAG.OID ? decodeOid(oid.value) : '';
    return HASH_BY_OID[dotted] ?? unavailable(`RSASSA-PSS hash ${dotted || '(none)'} is not known`);
  } catch (err) {
    if (err instanceof DerError) unavailable(`bad RSASSA-PSS parameters (${err.reason})`);
    throw err;
  }
}

/** The channel-binding application data for a TLS server certificate (DER): `tls-server-end-point:` + hash. */
export function tlsServerEndPoint(certDer: Uint8Array): Buffer {
  const hash = createHash(endPointHash(certDer)).update(certDer).digest();
  return Buffer.concat([PREFIX, hash]);
}
