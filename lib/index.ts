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
} from './facade/api.js';
export {
  acceptSecurityContext,
  delegatedCredential,
  isServerContext,
  MAX_ACCEPT_TOKEN,
  type AcceptResult,
  type AcceptSecurityContextOptions,
} from './facade/accept.js';
export type { InboundCredentialsOptions } from './facade/inbound.js';
export { NegotiateServer, type NegotiateServerOptions, type NegotiateServerStep } from './server/negotiate-server.js';
export type { BindingsPolicy } from './vocabulary/packages.js';
export * from './vocabulary/accept-flags.js';
export { NegotiateClient, fromBase64, toBase64, type NegotiateClientOptions, type NegotiateStep } from './client/negotiate.js';
export { gssapiLibrary, type GssapiLibraryInfo } from './facade/library.js';
export { kdcCallStats, setMaxConcurrentKdcCalls } from './providers/pool.js';
export { decryptMessage, encryptMessage, makeSignature, verifySignature, type MessageResult } from './facade/message.js';
export {
  enumerateSecurityPackages,
  queryContextAttributes,
  queryCredentialsAttributes,
  querySecurityPackageInfo,
  type AttributeResult,
} from './facade/query.js';
export * from './vocabulary/attributes.js';
export { secChannelBindings, parseSecChannelBindings, type ChannelBindingsFields } from './vocabulary/bindings.js';
export * from './vocabulary/flags.js';
export * from './vocabulary/status.js';
export type { PackageName } from './vocabulary/packages.js';
export type { RenewalEvent } from './providers/renewal.js';
export type { TicketTimes } from './providers/krb5-native.js';
export * from './client/http/index.js';
export { negotiate, realmOf, type ChannelBindingsMode, type NegotiateDecision, type NegotiateHandler, type NegotiateMiddlewareOptions, type NegotiateRequest } from './server/middleware.js';
export type { NegotiateErrorEvent, NegotiateIdentity } from './server/types.js';
export { connectionsWithState } from './server/connection-state.js';
export { negotiateFastify, negotiateKoa } from './server/adapters.js';
