// Which native security library this process uses: for diagnostics and bug reports.
import { gssapi } from '../ffi/gssapi.js';
import type { GssFlavour } from '../ffi/load.js';

export interface GssapiLibraryInfo {
  /** The path or soname that was opened. */
  path: string;
  /** MIT, Heimdal or Apple. */
  flavour: GssFlavour;
}

/**
 * Loads (once) and describes the GSS-API library. The search order and the `KERBEROS_NEGOTIATE_GSSAPI_LIBRARY`
 * override are in the README. Throws an Error naming every path tried when none loads.
 */
export function gssapiLibrary(): GssapiLibraryInfo {
  const { path, flavour } = gssapi();
  return { path, flavour };
}
