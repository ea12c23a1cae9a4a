// The one error the HTTP layer throws for what a server (or the network) did. A caller's mistake is a TypeError;
// a failure inside the security context is a SecurityError, kept as `cause`.
import type { SecurityError } from '../../vocabulary/status.js';

export type HttpNegotiateErrorCode =
  /** A WWW-Authenticate / Proxy-Authenticate header that is not RFC 9110 syntax, or a Negotiate token not base64. */
  | 'BAD_CHALLENGE'
  /** The server sent our token back with a 401 (or the proxy with a 407): it did not accept us. */
  | 'AUTH_REJECTED'
  /** The server's final token was missing or did not complete the context, and mutual authentication is required. */
  | 'MUTUAL_AUTH_FAILED'
  /** The request body must be sent again after a challenge, and it is a stream larger than `maxReplayBytes`. */
  | 'BODY_NOT_REPLAYABLE'
  /** Channel bindings were asked for and cannot be computed for this connection (e.g. an Ed25519 certificate). */
  | 'CHANNEL_BINDINGS_UNAVAILABLE'
  /** More legs than `maxLegs`, or more redirects than `maxRedirects`. */
  | 'TOO_MANY_LEGS'
  | 'TOO_MANY_REDIRECTS'
  /** The security context failed (bad SPN, no credentials, KDC unreachable ...): see `cause`. */
  | 'SECURITY';

export class HttpNegotiateError extends Error {
  override readonly name = 'HttpNegotiateError';

  constructor(
    readonly code: HttpNegotiateErrorCode,
    message: string,
    /** The HTTP status of the response that caused it, when there was one. */
    readonly status?: number,
    options?: { cause?: SecurityError | Error },
  ) {
    super(message, options);
  }
}
