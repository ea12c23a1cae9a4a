// ISC_REQ_* and ISC_RET_* flags of SSPI to and from the GSS request and return flags (RFC 2744 §5.19): tables, read
// both ways, and the bits the GSS provider honours.
import * as G from '../../ffi/gssapi.js';
import * as F from '../vocabulary/flags.js';

/** ISC_REQ_* -> GSS request flag. ISC_REQ_DELEGATE means Windows' delegation: only to ok-as-delegate targets. */
const REQ_TO_GSS: ReadonlyArray<readonly [number, number]> = [
  [F.ISC_REQ_DELEGATE, G.GSS_C_DELEG_POLICY_FLAG],
  [F.ISC_REQ_MUTUAL_AUTH, G.GSS_C_MUTUAL_FLAG],
  [F.ISC_REQ_REPLAY_DETECT, G.GSS_C_REPLAY_FLAG],
  [F.ISC_REQ_SEQUENCE_DETECT, G.GSS_C_SEQUENCE_FLAG],
  [F.ISC_REQ_CONFIDENTIALITY, G.GSS_C_CONF_FLAG],
  [F.ISC_REQ_INTEGRITY, G.GSS_C_INTEG_FLAG],
  [F.ISC_REQ_IDENTIFY, G.GSS_C_IDENTIFY_FLAG],
  [F.ISC_REQ_EXTENDED_ERROR, G.GSS_C_EXTENDED_ERROR_FLAG],
  [F.ISC_REQ_USE_DCE_STYLE, G.GSS_C_DCE_STYLE],
];

/** GSS granted flag -> ISC_RET_*. */
const GSS_TO_RET: ReadonlyArray<readonly [number, number]> = [
  [G.GSS_C_DELEG_FLAG, F.ISC_RET_DELEGATE],
  [G.GSS_C_MUTUAL_FLAG, F.ISC_RET_MUTUAL_AUTH],
  [G.GSS_C_REPLAY_FLAG, F.ISC_RET_REPLAY_DETECT],
  [G.GSS_C_SEQUENCE_FLAG, F.ISC_RET_SEQUENCE_DETECT],
  [G.GSS_C_CONF_FLAG, F.ISC_RET_CONFIDENTIALITY],
  [G.GSS_C_INTEG_FLAG, F.ISC_RET_INTEGRITY],
  [G.GSS_C_IDENTIFY_FLAG, F.ISC_RET_IDENTIFY],
  [G.GSS_C_EXTENDED_ERROR_FLAG, F.ISC_RET_EXTENDED_ERROR],
  [G.GSS_C_ANON_FLAG, F.ISC_RET_NULL_SESSION],
  [G.GSS_C_DCE_STYLE, F.ISC_RET_USED_DCE_STYLE],
];

/** Requests with no GSS counterpart that only shape how we hand buffers back: accepted, handled by the API. */
const LOCAL_REQ = F.ISC_REQ_ALLOCATE_MEMORY | F.ISC_REQ_CONNECTION | F.ISC_REQ_STREAM | F.ISC_REQ_NO_INTEGRITY
  | F.ISC_REQ_UNVERIFIED_TARGET_NAME;

export function gssRequestFlags(contextReq: number, unconstrainedDelegation = false): number {
  let flags = 0;
  for (const [req, gss] of REQ_TO_GSS) if (contextReq & req) flags |= gss;
  // The explicit opt-in: forward the TGT whatever the KDC says of the target (GSS_C_DELEG_FLAG).
  if (unconstrainedDelegation && contextReq & F.ISC_REQ_DELEGATE) flags = (flags & ~G.GSS_C_DELEG_POLICY_FLAG) | G.GSS_C_DELEG_FLAG;
  // ISC_REQ_NO_INTEGRITY: "the ISC_REQ_INTEGRITY flag is ignored".
  if (contextReq & F.ISC_REQ_NO_INTEGRITY) flags &= ~G.GSS_C_INTEG_FLAG;
  return flags >>> 0;
}

export function iscRetFlags(gssFlags: number, contextReq: number): number {
  let attr = 0;
  for (const [gss, ret] of GSS_TO_RET) if (gssFlags & gss) attr |= ret;
  // Framing requests are honoured as asked: they describe how the caller uses the context.
  if (contextReq & F.ISC_REQ_CONNECTION) attr |= F.ISC_RET_CONNECTION;
  if (contextReq & F.ISC_REQ_STREAM) attr |= F.ISC_RET_STREAM;
  return attr >>> 0;
}

/** The ISC_REQ_* bits the GSS provider honours: those with a GSS flag, and the local ones. */
export const SUPPORTED_CONTEXT_REQ = REQ_TO_GSS.reduce((all, [req]) => all | req, 0) | LOCAL_REQ;
