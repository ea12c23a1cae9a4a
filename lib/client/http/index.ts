// HTTP Negotiate (RFC 4559): fetch-compatible and node:http-based clients, and the pieces they are made of.
export { negotiateFetch, type NegotiateFetchInit, type NegotiateFetchResponse } from './fetch.js';
export { NegotiateDispatcher, withNegotiate, type NegotiateDispatcherOptions } from './dispatcher.js';
export {
  negotiateRequest,
  type DelegationPolicy,
  type MutualPolicy,
  type NegotiateAuthInfo,
  type NegotiateHttpOptions,
  type NegotiateHttpResponse,
} from './request.js';
export { HttpNegotiateError, type HttpNegotiateErrorCode } from './errors.js';
export { findNegotiate, parseChallenges, type Challenge } from './challenge.js';
export { tlsServerEndPoint } from './channel-bindings.js';
export { spnForUrl, type SpnOptions } from './spn.js';
