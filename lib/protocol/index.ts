// SPNEGO (RFC 4178) codec and the token describer used by the CLI.
export { DerError } from './der.js';
export {
  MECH_OID,
  SpnegoError,
  decodeNegToken,
  encodeMechTypeList,
  encodeNegTokenInit,
  encodeNegTokenResp,
  unwrapInitialContextToken,
  wrapInitialContextToken,
  type NegState,
  type NegToken,
  type NegTokenInit,
  type NegTokenResp,
} from './tokens.js';
export { describeToken, type KerberosDescription, type TokenDescription } from './describe.js';
