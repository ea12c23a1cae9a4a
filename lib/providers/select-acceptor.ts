// Picks the acceptor for this platform once: GSS-API on Linux and macOS. Windows' SSPI acceptor is not wired yet
// (docs/api.md, "The acceptor"): there acquireCredentialsHandle(SECPKG_CRED_INBOUND) answers
// SEC_E_UNSUPPORTED_FUNCTION.
import * as S from '../vocabulary/status.js';
import type { Acceptor } from './acceptor.js';
import { GssAcceptor } from './gssapi-acceptor.js';
import { currentProvider } from './select.js';

let acceptor: Acceptor | undefined;

/** The acceptor for this process, or undefined where none exists (Windows, for now). */
export function currentAcceptor(): Acceptor | undefined {
  if (process.platform === 'win32') return undefined;
  // Loads the GSS library, or throws SecurityError(SEC_E_SECPKG_NOT_FOUND) as the client calls do.
  currentProvider();
  acceptor ??= new GssAcceptor();
  return acceptor;
}

export const NO_ACCEPTOR = { status: S.SEC_E_UNSUPPORTED_FUNCTION, detail: 'AcceptSecurityContext is not available on Windows in this version (SSPI acceptor: not yet)' };
