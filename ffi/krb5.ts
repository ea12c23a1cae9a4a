// The few krb5 functions the GSS-API cannot reach: an initial-ticket logon with per-handle options (forwardable,
// renewable, lifetime) into a chosen ccache, a TGT's times and its renewal, and destroying the private MEMORY caches
// we create. Declarations only.
// It must be the krb5 library the loaded GSS library itself uses: MEMORY caches live inside that library instance.
import koffi from 'koffi';
import { hasSymbol, pinLoaded, type GssFlavour, type LibraryHandle } from './load.js';

type Fn = ReturnType<LibraryHandle['func']>;

export interface Krb5Functions {
  krb5_init_context: Fn;
  krb5_free_context: Fn;
  krb5_parse_name: Fn;
  krb5_free_principal: Fn;
  krb5_get_init_creds_opt_alloc: Fn;
  krb5_get_init_creds_opt_free: Fn;
  krb5_get_init_creds_opt_set_forwardable: Fn;
  krb5_get_init_creds_opt_set_renew_life: Fn;
  krb5_get_init_creds_opt_set_tkt_life: Fn;
  krb5_cc_initialize: Fn;
  krb5_cc_get_principal: Fn;
  krb5_cc_store_cred: Fn;
  krb5_get_init_creds_password: Fn;
  krb5_get_init_creds_keytab: Fn;
  krb5_free_cred_contents: Fn;
  krb5_kt_resolve: Fn;
  krb5_kt_close: Fn;
  krb5_cc_resolve: Fn;
  krb5_cc_default: Fn;
  /** The default ccache's name (KRB5CCNAME, else krb5.conf's default_ccache_name), as of the context's creation. */
  krb5_cc_default_name: Fn;
  krb5_cc_destroy: Fn;
  krb5_cc_close: Fn;
  krb5_free_keyblock?: Fn;
  /** Whether a keytab holds a principal's key (an acceptor's principal checked at acquisition, as MIT does). */
  krb5_kt_get_entry?: Fn;
  krb5_kt_free_entry?: Fn;
  /** Reading a cache's tickets (a TGT's times: SECPKG_ATTR_LIFESPAN and the renewal schedule). */
  krb5_cc_start_seq_get: Fn;
  krb5_cc_next_cred: Fn;
  krb5_cc_end_seq_get: Fn;
  krb5_unparse_name: Fn;
  krb5_free_unparsed_name: Fn;
  /** Renews a renewable TGT at the KDC (RFC 4120 §3.3.3, the RENEW option): no password or key needed. */
  krb5_get_renewed_creds?: Fn;
}

/** sizeof(krb5_keytab_entry) is 56 bytes on 64-bit Heimdal 7 and less on MIT; opaque to us, and generous. */
export const KRB5_KEYTAB_ENTRY_BUFFER = 256;

/** sizeof(krb5_creds) is about 120 bytes on 64-bit MIT, 150 on Heimdal; the buffer is opaque to us and generous. */
export const KRB5_CREDS_BUFFER = 512;

/**
 * Where a krb5_creds holds its client and server principals and its ticket times (authtime, starttime, endtime,
 * renew_till), by flavour, on 64-bit platforms. MIT (krb5.h): magic, client, server, a krb5_keyblock of 24 bytes,
 * then four krb5_timestamp (int32). Heimdal (krb5.h of 7.x): client, server, a krb5_keyblock of 24 bytes, then four
 * krb5_timestamp (time_t, int64).
 */
export function credsLayout(flavour: GssFlavour): { client: number; server: number; times: number; timeType: 'int32_t' | 'int64_t' } {
  return flavour === 'heimdal' ? { client: 0, server: 8, times: 40, timeType: 'int64_t' } : { client: 8, server: 16, times: 48, timeType: 'int32_t' };
}

/** The krb5 library beside a GSS library, by the same naming as its distribution. */
export function krb5Candidates(gssPath: string, flavour: GssFlavour): string[] {
  if (flavour === 'apple') return ['/System/Library/Frameworks/Kerberos.framework/Kerberos'];
  if (gssPath.includes('libgssapi_krb5')) return [gssPath.replace(/libgssapi_krb5(\.so\.2|\.2\.2\.dylib|\.dylib|\.so)/, (_, ext: string) => (ext.includes('dylib') ? 'libkrb5.3.3.dylib' : 'libkrb5.so.3'))];
  if (flavour === 'heimdal' || gssPath.includes('libgssapi.so')) return [gssPath.replace(/libgssapi\.so(\.\d+)?/, 'libkrb5.so.26')];
  return [];
}

function declare(lib: LibraryHandle): Krb5Functions | undefined {
  if (!hasSymbol(lib, 'krb5_get_init_creds_opt_alloc') || !hasSymbol(lib, 'krb5_cc_store_cred')) return undefined;
  const f = (proto: string) => lib.func(proto);
  return {
    krb5_init_context: f('int32_t krb5_init_context(_Out_ void **ctx)'),
    krb5_free_context: f('void krb5_free_context(void *ctx)'),
    krb5_parse_name: f('int32_t krb5_parse_name(void *ctx, const char *name, _Out_ void **principal)'),
    krb5_free_principal: f('void krb5_free_principal(void *ctx, void *principal)'),
    krb5_get_init_creds_opt_alloc: f('int32_t krb5_get_init_creds_opt_alloc(void *ctx, _Out_ void **opt)'),
    krb5_get_init_creds_opt_free: f('void krb5_get_init_creds_opt_free(void *ctx, void *opt)'),
    krb5_get_init_creds_opt_set_forwardable: f('void krb5_get_init_creds_opt_set_forwardable(void *opt, int forwardable)'),
    krb5_get_init_creds_opt_set_renew_life: f('void krb5_get_init_creds_opt_set_renew_life(void *opt, int32_t seconds)'),
    krb5_get_init_creds_opt_set_tkt_life: f('void krb5_get_init_creds_opt_set_tkt_life(void *opt, int32_t seconds)'),
    krb5_cc_get_principal: f('int32_t krb5_cc_get_principal(void *ctx, void *ccache, _Out_ void **principal)'),
    krb5_cc_initialize: f('int32_t krb5_cc_initialize(void *ctx, void *ccache, void *principal)'),
    krb5_cc_store_cred: f('int32_t krb5_cc_store_cred(void *ctx, void *ccache, void *creds)'),
    krb5_get_init_creds_password: f(
      'int32_t krb5_get_init_creds_password(void *ctx, void *creds, void *client, const uint8_t *password, void *prompter, void *data, int32_t start, const char *service, void *opt)',
    ),
    krb5_get_init_creds_keytab: f(
      'int32_t krb5_get_init_creds_keytab(void *ctx, void *creds, void *client, void *keytab, int32_t start, const char *service, void *opt)',
    ),
    krb5_free_cred_contents: f('void krb5_free_cred_contents(void *ctx, void *creds)'),
    krb5_kt_resolve: f('int32_t krb5_kt_resolve(void *ctx, const char *name, _Out_ void **keytab)'),
    krb5_kt_close: f('int32_t krb5_kt_close(void *ctx, void *keytab)'),
    krb5_cc_resolve: f('int32_t krb5_cc_resolve(void *ctx, const char *name, _Out_ void **ccache)'),
    krb5_cc_default: f('int32_t krb5_cc_default(void *ctx, _Out_ void **ccache)'),
    krb5_cc_default_name: f('const char *krb5_cc_default_name(void *ctx)'),
    krb5_cc_destroy: f('int32_t krb5_cc_destroy(void *ctx, void *ccache)'),
    krb5_cc_close: f('int32_t krb5_cc_close(void *ctx, void *ccache)'),
    krb5_free_keyblock: hasSymbol(lib, 'krb5_free_keyblock') ? f('void krb5_free_keyblock(void *ctx, void *keyblock)') : undefined,
    krb5_kt_get_entry: hasSymbol(lib, 'krb5_kt_get_entry')
      ? f('int32_t krb5_kt_get_entry(void *ctx, void *keytab, void *principal, int32_t kvno, int32_t enctype, void *entry)') : undefined,
    krb5_kt_free_entry: hasSymbol(lib, 'krb5_kt_free_entry') ? f('int32_t krb5_kt_free_entry(void *ctx, void *entry)') : undefined,
    krb5_cc_start_seq_get: f('int32_t krb5_cc_start_seq_get(void *ctx, void *ccache, _Out_ void **cursor)'),
    krb5_cc_next_cred: f('int32_t krb5_cc_next_cred(void *ctx, void *ccache, _Inout_ void **cursor, void *creds)'),
    krb5_cc_end_seq_get: f('int32_t krb5_cc_end_seq_get(void *ctx, void *ccache, _Inout_ void **cursor)'),
    krb5_unparse_name: f('int32_t krb5_unparse_name(void *ctx, void *principal, _Out_ void **name)'),
    krb5_free_unparsed_name: f('void krb5_free_unparsed_name(void *ctx, void *name)'),
    krb5_get_renewed_creds: hasSymbol(lib, 'krb5_get_renewed_creds')
      ? f('int32_t krb5_get_renewed_creds(void *ctx, void *creds, void *client, void *ccache, const char *service)')
      : undefined,
  };
}

let loaded: { path: string; fn: Krb5Functions } | null | undefined;

/** The krb5 functions, or null when no matching krb5 library (with the functions we need) opens. */
export function krb5(gssPath: string, flavour: GssFlavour): { path: string; fn: Krb5Functions } | null {
  if (loaded !== undefined) return loaded;
  loaded = null;
  for (const candidate of krb5Candidates(gssPath, flavour)) {
    try {
      pinLoaded(candidate);
      const lib = koffi.load(candidate, { deep: process.platform === 'linux' });
      const fn = declare(lib);
      if (fn) {
        loaded = { path: candidate, fn };
        break;
      }
    } catch {
      // not there: the options that need it report SEC_E_UNSUPPORTED_FUNCTION
    }
  }
  return loaded;
}
