// Public entry point: the SSPI-shaped API, its vocabulary, and the idiomatic NegotiateClient.
export {
  acquireCredentialsHandle,
  completeAuthToken,
  deleteSecurityContext,
  freeContextBuffer,
  freeCredentialsHandle,
  initializeSecurityContext,
  ContextHandle,
  CredentialsHandle,
  type AcquireCredentialsOptions,
  type InitializeResult,
  type InitializeSecurityContextOptions,
  type SecBuffer,
} from './api.js';
export {
  acceptSecurityContext,
  delegatedCredential,
  isServerContext,
  MAX_ACCEPT_TOKEN,
  type AcceptResult,
  type AcceptSecurityContextOptions,
} from './accept.js';
export type { InboundCredentialsOptions } from './inbound.js';
export { NegotiateServer, type NegotiateServerOptions, type NegotiateServerStep } from './negotiate-server.js';
export type { BindingsPolicy } from './providers/acceptor.js';
export * from './sspi/accept-flags.js';
export { NegotiateClient, fromBase64, toBase64, type NegotiateClientOptions, type NegotiateStep } from './negotiate.js';
export { gssapiLibrary, type GssapiLibraryInfo } from './library.js';
export { kdcCallStats, setMaxConcurrentKdcCalls } from './providers/pool.js';
export { decryptMessage, encryptMessage, makeSignature, verifySignature, type MessageResult } from './message.js';
export {
  enumerateSecurityPackages,
  queryContextAttributes,
  queryCredentialsAttributes,
  querySecurityPackageInfo,
  type AttributeResult,
} from './query.js';
export * from './sspi/attributes.js';
export { secChannelBindings, parseSecChannelBindings, type ChannelBindingsFields } from './sspi/bindings.js';
export * from './sspi/flags.js';
export * from './sspi/status.js';
export type { PackageName } from './providers/provider.js';
export type { RenewalEvent } from './providers/renewal.js';
export type { TicketTimes } from './providers/krb5-native.js';
export * from './http/index.js';
export { negotiate, realmOf, type ChannelBindingsMode, type NegotiateDecision, type NegotiateHandler, type NegotiateMiddlewareOptions, type NegotiateRequest } from './server/middleware.js';
export type { NegotiateErrorEvent, NegotiateIdentity } from './server/types.js';
export { connectionsWithState } from './server/connection-state.js';
export { negotiateFastify, negotiateKoa } from './server/adapters.js';
