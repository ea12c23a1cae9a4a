// Which GSS-API library the GSS provider uses (ffi/load.ts finds and opens it): for diagnostics and bug reports.
import { gssapi } from '../../ffi/gssapi.js';
import type { GssFlavour } from '../../ffi/load.js';

export type { GssFlavour };

/** Opens the GSS-API library once (`path`, else the environment override, else the search order) and names it. */
export function openGssapiLibrary(path?: string): { path: string; flavour: GssFlavour } {
  const { path: opened, flavour } = gssapi(path);
  return { path: opened, flavour };
}
