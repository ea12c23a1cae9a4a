// Which native security library this process uses: for diagnostics and bug reports.
import { checkCString } from './cstring.js';
import { openGssapiLibrary, type GssFlavour } from '../providers/gssapi-library.js';

export interface GssapiLibraryInfo {
  /** The path or soname that was opened. */
  path: string;
  /** MIT, Heimdal or Apple. */
  flavour: GssFlavour;
}

/**
 * Loads (once) and describes the GSS-API library. `path` chooses the library (a path or soname) instead of the
 * search order and the `KERBEROS_NEGOTIATE_GSSAPI_LIBRARY` environment variable; it must come before any other
 * call of the library, and a different path later throws. Throws an Error naming every path tried when none loads.
 */
export function gssapiLibrary(path?: string): GssapiLibraryInfo {
  if (path !== undefined && (typeof path !== 'string' || path.length === 0)) throw new TypeError('path must be a non-empty string');
  if (path !== undefined) checkCString(path, 'path');
  return openGssapiLibrary(path);
}
