// What the HTTP acceptor puts on the request, and what it tells the error hook.
import type { CredentialsHandle } from '../facade/api.js';
import type { GssStatusDetail } from '../vocabulary/status.js';

/** `req.negotiate` once the client is authenticated. */
export interface NegotiateIdentity {
  /** The client's principal, `alice@EXAMPLE.COM`. */
  principal: string;
  /** Its realm, `EXAMPLE.COM` (the part after the last `@`). */
  realm: string;
  /** The client asked for mutual authentication (ASC_RET_MUTUAL_AUTH); the final token goes out either way. */
  mutual: boolean;
  /** The context is bound to this TLS connection (channel bindings required, given and verified). */
  channelBound: boolean;
  /**
   * With `delegation: true`, the credential the client delegated, as an outbound handle for negotiateFetch /
   * NegotiateClient (the double hop). Freed when the response closes. undefined when none was delegated.
   */
  delegatedCredential?: CredentialsHandle;
  /** The security package that authenticated: `Kerberos`. */
  package: string;
  /** True when this request was let through on the strength of an earlier one on the same connection (`perConnection`). */
  reused?: boolean;
}

/** What went wrong, for `onError`: statuses and codes, never a token. */
export interface NegotiateErrorEvent {
  /** The HTTP status answered: 400 (malformed header), 401 (refused), 403 (denied by policy), 500 (server side). */
  status: 400 | 401 | 403 | 500;
  /** `malformed` (the header), `rejected` (the acceptor refused the token), `denied` (principal or realm policy), `server` (our side: keytab, bindings unavailable). */
  reason: 'malformed' | 'rejected' | 'denied' | 'server';
  /** The SSPI status, when the acceptor gave one: `SEC_E_INVALID_TOKEN`, ... */
  statusName?: string;
  secStatus?: number;
  /** GSS major and minor with their texts, when a GSS call failed. */
  major?: number;
  minor?: number;
  gss?: GssStatusDetail;
  /** A description without secrets. */
  detail: string;
  /** The client principal (403 only). */
  principal?: string;
  /** The peer's address and port. */
  remoteAddress?: string;
  remotePort?: number;
  method?: string;
  url?: string;
}
