// The base64 of RFC 4559's Negotiate tokens, one definition for both ends (the client reading WWW-Authenticate in
// lib/client/http/challenge.ts, the server reading Authorization in lib/server/authorization.ts): RFC 4648 section 4,
// padded, no whitespace. A looser check on one side only would let a token through there that the other refuses.

/** Strict, padded base64 (RFC 4648 §4); the empty string matches (callers refuse an empty token themselves). */
export const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Whether `text` is strict base64 (see BASE64). */
export function isBase64(text: string): boolean {
  return BASE64.test(text);
}
