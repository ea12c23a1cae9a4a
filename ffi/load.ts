// Finds and opens the platform's GSS-API library. Declarations only: no policy beyond the search order.
import koffi from 'koffi';
import './async-memory.js';

export type LibraryHandle = ReturnType<typeof koffi.load>;

/** Which GSS-API implementation a loaded library is. */
export type GssFlavour = 'mit' | 'heimdal' | 'apple' | 'unknown';

/** The environment variable that overrides the search: a path or soname of a GSS-API library. */
export const GSSAPI_LIBRARY_ENV = 'KERBEROS_NEGOTIATE_GSSAPI_LIBRARY';

export interface LoadedGssapi {
  lib: LibraryHandle;
  /** The path or soname that opened. */
  path: string;
  flavour: GssFlavour;
}

/** The search order per platform, documented in the README. */
export function gssapiCandidates(platform: NodeJS.Platform = process.platform): string[] {
  if (platform === 'darwin') {
    return [
      '/System/Library/Frameworks/GSS.framework/GSS',
      '/opt/homebrew/opt/krb5/lib/libgssapi_krb5.2.2.dylib',
      '/usr/local/opt/krb5/lib/libgssapi_krb5.2.2.dylib',
      '/opt/local/lib/libgssapi_krb5.2.2.dylib',
    ];
  }
  return ['libgssapi_krb5.so.2', 'libgssapi.so.3'];
}

function flavourOf(lib: LibraryHandle, path: string): GssFlavour {
  if (path.includes('GSS.framework')) return 'apple';
  // MIT exports its OIDs as pointer variables under the RFC 2744 names; Heimdal exports the descriptors.
  if (hasSymbol(lib, 'GSS_C_NT_HOSTBASED_SERVICE') && hasSymbol(lib, 'krb5_gss_register_acceptor_identity')) return 'mit';
  if (hasSymbol(lib, '__gss_c_nt_hostbased_service_oid_desc')) return 'heimdal';
  return 'unknown';
}

/** True when the library exports `name` (a function or a variable). */
export function hasSymbol(lib: LibraryHandle, name: string): boolean {
  try {
    return lib.symbol(name) != null;
  } catch {
    return false;
  }
}

const RTLD_NOW = 2;
const RTLD_DEEPBIND = 8;
const RTLD_NODELETE = 0x1000;
let dlopen: ((path: string, flags: number) => unknown) | undefined;

/**
 * On Linux, opens `path` once more with RTLD_NODELETE (and the same DEEPBIND binding koffi uses) so that it is never
 * unmapped. At process exit koffi closes its libraries while libuv's pool threads still have to run the thread-
 * specific-data destructors those libraries registered (Heimdal does, for its per-thread error state): unmapped,
 * that was a SIGSEGV in every process that exits after a call on the pool. Best effort: without it, nothing else
 * changes.
 */
export function pinLoaded(path: string): void {
  if (process.platform !== 'linux') return;
  try {
    dlopen ??= koffi.load('libc.so.6').func('void *dlopen(const char *path, int flags)') as (path: string, flags: number) => unknown;
    dlopen(path, RTLD_NOW | RTLD_DEEPBIND | RTLD_NODELETE);
  } catch {
    // no glibc: the platform's loader keeps its own rules
  }
}

/**
 * Opens the GSS-API library: `path` if given, else the environment override, else the platform's candidates in
 * order. Throws an Error naming every path tried when none opens.
 */
export function loadGssapi(path?: string): LoadedGssapi {
  const override = path ?? process.env[GSSAPI_LIBRARY_ENV];
  // dlopen takes a C string: lib/facade/library.ts refuses a `path` with a NUL before it comes here (lib/facade/cstring.ts). An
  // environment value cannot hold one (Node cuts it when the variable is set; execve cannot pass one).
  const candidates = override ? [override] : gssapiCandidates();
  const failures: string[] = [];
  for (const candidate of candidates) {
    try {
      pinLoaded(candidate);
      // RTLD_DEEPBIND keeps the system krb5 on its own OpenSSL instead of Node's (docs/platforms.md, "RTLD_DEEPBIND").
      const lib = koffi.load(candidate, { deep: process.platform === 'linux' });
      return { lib, path: candidate, flavour: flavourOf(lib, candidate) };
    } catch (err) {
      failures.push(`${candidate}: ${(err as Error).message}`);
    }
  }
  throw new Error(`no GSS-API library could be loaded (tried ${failures.join('; ')})`);
}
