// The Authorization header of RFC 4559 as a server reads it: `Negotiate <base64 token68>`. Everything a client may
// send is classified here, never thrown: no header, another scheme, a Negotiate token, or a malformed one (400).
import { MAX_ACCEPT_TOKEN } from '../facade/accept.js';
import { isBase64 } from '../protocol/base64.js';

export type Authorization =
  | { kind: 'none' }
  | { kind: 'other'; scheme: string }
  | { kind: 'negotiate'; token: Buffer }
  | { kind: 'malformed'; why: string };

/** The longest base64 text that can hold MAX_ACCEPT_TOKEN bytes (longer is refused before decoding). */
export const MAX_TOKEN_TEXT = Math.ceil(MAX_ACCEPT_TOKEN / 3) * 4;

const SCHEME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Reads `Authorization` (node gives a string, or undefined; an array only from hand-made requests). */
export function parseAuthorization(header: string | string[] | undefined): Authorization {
  if (header === undefined) return { kind: 'none' };
  if (Array.isArray(header)) {
    if (header.length !== 1) return { kind: 'malformed', why: 'more than one Authorization header' };
    header = header[0];
  }
  const text = header.trim();
  if (text === '') return { kind: 'none' };
  const space = text.search(/[ \t]/);
  const scheme = space < 0 ? text : text.slice(0, space);
  if (!SCHEME.test(scheme)) return { kind: 'malformed', why: 'the Authorization header has no valid scheme' };
  if (scheme.toLowerCase() !== 'negotiate') return { kind: 'other', scheme: scheme.length > 32 ? `${scheme.slice(0, 32)}...` : scheme };
  const value = space < 0 ? '' : text.slice(space).trim();
  if (value === '') return { kind: 'malformed', why: 'Negotiate without a token' };
  if (value.length > MAX_TOKEN_TEXT) return { kind: 'malformed', why: `the token is over ${MAX_ACCEPT_TOKEN} bytes` };
  // The client's definition (lib/protocol/base64.ts): padded, as RFC 4559's base64 is.
  if (!isBase64(value)) return { kind: 'malformed', why: 'the Negotiate token is not base64' };
  const token = Buffer.from(value, 'base64');
  if (token.length === 0) return { kind: 'malformed', why: 'the Negotiate token is empty' };
  return { kind: 'negotiate', token };
}

/**
 * Whether a client token opens a new exchange: an InitialContextToken (RFC 2743 3.1, [APPLICATION 0], 0x60), which
 * SPNEGO's NegTokenInit and a framed Kerberos AP-REQ both are. Later legs are NegTokenResp (0xa1) or bare tokens.
 */
export function isInitialToken(token: Buffer): boolean {
  return token[0] === 0x60;
}
