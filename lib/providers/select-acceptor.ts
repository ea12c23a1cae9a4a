// Picks the acceptor for this platform once: GSS-API (ours, with our SPNEGO) on Linux and macOS, SSPI's own
// AcceptSecurityContext on Windows (as the initiator uses SSPI's own packages there).
import type { Acceptor } from './acceptor.js';
import { GssAcceptor } from './gssapi-acceptor.js';
import { currentProvider } from './select.js';
import { SspiAcceptor } from './sspi-acceptor.js';

let acceptor: Acceptor | undefined;

/** The acceptor for this process. */
export function currentAcceptor(): Acceptor {
  // Loads the native library, or throws SecurityError(SEC_E_SECPKG_NOT_FOUND) as the client calls do.
  currentProvider();
  acceptor ??= process.platform === 'win32' ? new SspiAcceptor() : new GssAcceptor();
  return acceptor;
}
