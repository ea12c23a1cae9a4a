// koffi declarations of the GSS-API (RFC 2744 and the common extensions). Types, functions, OIDs: nothing else.
import koffi from 'koffi';
import { hasSymbol, loadGssapi, type GssFlavour, type LibraryHandle } from './load.js';

type Fn = ReturnType<LibraryHandle['func']>;

/**
 * Apple's headers wrap the GSS structs in `#pragma pack(push,2)` on x86_64 only (docs/platforms.md, "Apple GSS.framework"); MIT and Heimdal
 * elsewhere use natural alignment. Every member of these structs has an even size, so koffi's pack (alignment 1)
 * gives the same layout as pack(2).
 */
export function gssStructsPacked(platform: NodeJS.Platform = process.platform, arch: string = process.arch): boolean {
  return platform === 'darwin' && arch === 'x64';
}

type KoffiType = ReturnType<typeof koffi.struct>;

/**
 * The GSS structs, laid out per platform: natural alignment, or Apple's x86_64 packing. `named` registers them
 * under their C names (once per process, for the function prototypes); unnamed copies let the layout tests compute
 * every platform's layout in one process.
 */
export function gssStructTypes(packed: boolean, named = false) {
  const make = (name: string, fields: Record<string, unknown>): KoffiType => {
    const define = packed ? koffi.pack : koffi.struct;
    return (named ? define(name, fields as never) : define(fields as never)) as KoffiType;
  };
  const buffer = make('gss_buffer_desc', { length: 'size_t', value: 'void *' });
  const oid = make('gss_OID_desc', { length: 'uint32_t', elements: 'void *' });
  return {
    gss_buffer_desc: buffer,
    gss_OID_desc: oid,
    gss_OID_set_desc: make('gss_OID_set_desc', { count: 'size_t', elements: koffi.pointer(oid) }),
    gss_channel_bindings_struct: make('gss_channel_bindings_struct', {
      initiator_addrtype: 'uint32_t',
      initiator_address: buffer,
      acceptor_addrtype: 'uint32_t',
      acceptor_address: buffer,
      application_data: buffer,
    }),
    // RFC 4121 IOV interface (gss_wrap_iov and friends): MIT and Heimdal export it; Apple only under private names.
    gss_iov_buffer_desc: make('gss_iov_buffer_desc', { type: 'uint32_t', buffer }),
    gss_buffer_set_desc: make('gss_buffer_set_desc', { count: 'size_t', elements: koffi.pointer(buffer) }),
  };
}

export const {
  gss_buffer_desc, gss_OID_desc, gss_OID_set_desc, gss_channel_bindings_struct, gss_iov_buffer_desc, gss_buffer_set_desc,
} = gssStructTypes(gssStructsPacked(), true);
export const GSS_IOV_BUFFER_TYPE_EMPTY = 0;
export const GSS_IOV_BUFFER_TYPE_DATA = 1;
export const GSS_IOV_BUFFER_TYPE_HEADER = 2;
export const GSS_IOV_BUFFER_TYPE_TRAILER = 7;
export const GSS_IOV_BUFFER_TYPE_PADDING = 9;
export const GSS_IOV_BUFFER_TYPE_STREAM = 10;
export const GSS_IOV_BUFFER_TYPE_SIGN_ONLY = 11;

// MIT's credential store (gssapi_ext.h, outside Apple's pragma pack: natural alignment everywhere).
export const gss_key_value_element_desc = koffi.struct('gss_key_value_element_desc', { key: 'void *', value: 'void *' });
export const gss_key_value_set_desc = koffi.struct('gss_key_value_set_desc', { count: 'uint32_t', elements: 'void *' });

/** A gss_buffer_desc as koffi reads and writes it: `value` is a pointer (BigInt), a Buffer on input, or null. */
export interface GssBuffer {
  length: number;
  value: bigint | Buffer | null;
}

// Status codes (RFC 2744 §3.9.1) are in gss-status.ts.
export const GSS_C_GSS_CODE = 1;
export const GSS_C_MECH_CODE = 2;
export const GSS_C_INDEFINITE = 0xffffffff;
export const GSS_C_QOP_DEFAULT = 0;
export const GSS_C_INITIATE = 1;
export const GSS_C_AF_UNSPEC = 0;

// Context flags (RFC 2744 §5.19, GSS_C_DELEG_POLICY_FLAG from RFC 5896).
export const GSS_C_DELEG_FLAG = 1;
export const GSS_C_MUTUAL_FLAG = 2;
export const GSS_C_REPLAY_FLAG = 4;
export const GSS_C_SEQUENCE_FLAG = 8;
export const GSS_C_CONF_FLAG = 16;
export const GSS_C_INTEG_FLAG = 32;
export const GSS_C_ANON_FLAG = 64;
export const GSS_C_PROT_READY_FLAG = 128;
export const GSS_C_TRANS_FLAG = 256;
export const GSS_C_DCE_STYLE = 0x1000;
export const GSS_C_IDENTIFY_FLAG = 0x2000;
export const GSS_C_EXTENDED_ERROR_FLAG = 0x4000;
export const GSS_C_DELEG_POLICY_FLAG = 0x8000;

/** OIDs we pass to the library, by dotted string. Built in our own memory (Heimdal and MIT export them differently). */
export const OIDS = {
  NT_HOSTBASED_SERVICE: '1.2.840.113554.1.2.1.4',
  /** gss_inquire_sec_context_by_oid: the session key and its enctype, as SSPI's SECPKG_ATTR_SESSION_KEY. */
  INQ_SSPI_SESSION_KEY: '1.2.840.113554.1.2.2.5.5',
  NT_USER_NAME: '1.2.840.113554.1.2.1.1',
  KRB5_NT_PRINCIPAL_NAME: '1.2.840.113554.1.2.2.1',
  MECH_KRB5: '1.2.840.113554.1.2.2',
  MECH_SPNEGO: '1.3.6.1.5.5.2',
  MECH_NTLMSSP: '1.3.6.1.4.1.311.2.2.10',
} as const;

export interface GssapiFunctions {
  gss_import_name: Fn;
  gss_display_name: Fn;
  gss_release_name: Fn;
  gss_acquire_cred: Fn;
  gss_release_cred: Fn;
  gss_inquire_cred: Fn;
  gss_init_sec_context: Fn;
  gss_accept_sec_context: Fn;
  gss_delete_sec_context: Fn;
  gss_inquire_context: Fn;
  gss_context_time: Fn;
  gss_release_buffer: Fn;
  gss_display_status: Fn;
  gss_get_mic: Fn;
  gss_verify_mic: Fn;
  gss_wrap: Fn;
  gss_unwrap: Fn;
  gss_wrap_size_limit: Fn;
  gss_indicate_mechs: Fn;
  gss_release_oid_set: Fn;
  /** Optional extensions: undefined where the library lacks them. */
  /**
   * The C library's memcpy, found through the GSS library's dependencies: copies a GSS output buffer into memory the
   * caller already has (a fresh Buffer for each large message costs page faults: about 0.45 ms per MiB here).
   */
  memcpy?: Fn;
  gss_wrap_iov?: Fn;
  gss_unwrap_iov?: Fn;
  gss_wrap_iov_length?: Fn;
  gss_inquire_sec_context_by_oid?: Fn;
  gss_release_buffer_set?: Fn;
  gss_acquire_cred_with_password?: Fn;
  gss_acquire_cred_from?: Fn;
  gss_acquire_cred_impersonate_name?: Fn;
  gss_set_neg_mechs?: Fn;
  gss_krb5_import_cred?: Fn;
  gsskrb5_get_subkey?: Fn;
}

export interface Gssapi {
  path: string;
  flavour: GssFlavour;
  fn: GssapiFunctions;
}

function declare(lib: LibraryHandle): GssapiFunctions {
  const f = (proto: string) => lib.func(proto);
  const optional = (name: string, proto: string) => (hasSymbol(lib, name) ? lib.func(proto) : undefined);
  // Apple's GSS.framework exports the IOV calls only under private names, with the same prototypes.
  const apple = (name: string, proto: string) => optional(name, proto) ?? optional(`__ApplePrivate_${name}`, proto.replace(`${name}(`, `__ApplePrivate_${name}(`));
  return {
    gss_import_name: f('uint32_t gss_import_name(_Out_ uint32_t *minor, gss_buffer_desc *name, void *type, _Out_ void **out)'),
    gss_display_name: f('uint32_t gss_display_name(_Out_ uint32_t *minor, void *name, _Out_ gss_buffer_desc *out, _Out_ void **type)'),
    gss_release_name: f('uint32_t gss_release_name(_Out_ uint32_t *minor, _Inout_ void **name)'),
    gss_acquire_cred: f(
      'uint32_t gss_acquire_cred(_Out_ uint32_t *minor, void *name, uint32_t time_req, void *mechs, int usage, _Out_ void **cred, void **actual_mechs, _Out_ uint32_t *time_rec)',
    ),
    gss_release_cred: f('uint32_t gss_release_cred(_Out_ uint32_t *minor, _Inout_ void **cred)'),
    gss_inquire_cred: f(
      'uint32_t gss_inquire_cred(_Out_ uint32_t *minor, void *cred, _Out_ void **name, _Out_ uint32_t *lifetime, _Out_ int *usage, void **mechs)',
    ),
    gss_init_sec_context: f(
      'uint32_t gss_init_sec_context(_Out_ uint32_t *minor, void *cred, _Inout_ void **ctx, void *target, void *mech, uint32_t req_flags, uint32_t time_req, gss_channel_bindings_struct *cb, gss_buffer_desc *input, _Out_ void **actual_mech, _Out_ gss_buffer_desc *output, _Out_ uint32_t *ret_flags, _Out_ uint32_t *time_rec)',
    ),
    gss_accept_sec_context: f(
      'uint32_t gss_accept_sec_context(_Out_ uint32_t *minor, _Inout_ void **ctx, void *cred, gss_buffer_desc *input, gss_channel_bindings_struct *cb, _Out_ void **src_name, _Out_ void **mech, _Out_ gss_buffer_desc *output, _Out_ uint32_t *ret_flags, _Out_ uint32_t *time_rec, _Out_ void **delegated)',
    ),
    gss_delete_sec_context: f('uint32_t gss_delete_sec_context(_Out_ uint32_t *minor, _Inout_ void **ctx, void *output)'),
    gss_inquire_context: f(
      'uint32_t gss_inquire_context(_Out_ uint32_t *minor, void *ctx, _Out_ void **src, _Out_ void **targ, _Out_ uint32_t *lifetime, _Out_ void **mech, _Out_ uint32_t *flags, _Out_ int *initiator, _Out_ int *open)',
    ),
    gss_context_time: f('uint32_t gss_context_time(_Out_ uint32_t *minor, void *ctx, _Out_ uint32_t *time_rec)'),
    gss_release_buffer: f('uint32_t gss_release_buffer(_Out_ uint32_t *minor, _Inout_ gss_buffer_desc *buffer)'),
    gss_display_status: f(
      'uint32_t gss_display_status(_Out_ uint32_t *minor, uint32_t status, int type, void *mech, _Inout_ uint32_t *message_context, _Out_ gss_buffer_desc *out)',
    ),
    gss_get_mic: f('uint32_t gss_get_mic(_Out_ uint32_t *minor, void *ctx, uint32_t qop, gss_buffer_desc *message, _Out_ gss_buffer_desc *token)'),
    gss_verify_mic: f(
      'uint32_t gss_verify_mic(_Out_ uint32_t *minor, void *ctx, gss_buffer_desc *message, gss_buffer_desc *token, _Out_ uint32_t *qop)',
    ),
    gss_wrap: f(
      'uint32_t gss_wrap(_Out_ uint32_t *minor, void *ctx, int conf_req, uint32_t qop, gss_buffer_desc *input, _Out_ int *conf_state, _Out_ gss_buffer_desc *output)',
    ),
    gss_unwrap: f(
      'uint32_t gss_unwrap(_Out_ uint32_t *minor, void *ctx, gss_buffer_desc *input, _Out_ gss_buffer_desc *output, _Out_ int *conf_state, _Out_ uint32_t *qop)',
    ),
    gss_wrap_size_limit: f(
      'uint32_t gss_wrap_size_limit(_Out_ uint32_t *minor, void *ctx, int conf_req, uint32_t qop, uint32_t req_output_size, _Out_ uint32_t *max_input)',
    ),
    gss_indicate_mechs: f('uint32_t gss_indicate_mechs(_Out_ uint32_t *minor, _Out_ void **mechs)'),
    gss_release_oid_set: f('uint32_t gss_release_oid_set(_Out_ uint32_t *minor, _Inout_ void **set)'),
    memcpy: optional('memcpy', 'void *memcpy(void *dest, void *src, size_t n)'),
    gss_wrap_iov: apple('gss_wrap_iov',
      'uint32_t gss_wrap_iov(_Out_ uint32_t *minor, void *ctx, int conf_req, uint32_t qop, _Out_ int *conf_state, _Inout_ gss_iov_buffer_desc *iov, int count)'),
    gss_unwrap_iov: apple('gss_unwrap_iov',
      'uint32_t gss_unwrap_iov(_Out_ uint32_t *minor, void *ctx, _Out_ int *conf_state, _Out_ uint32_t *qop, _Inout_ gss_iov_buffer_desc *iov, int count)'),
    gss_wrap_iov_length: apple('gss_wrap_iov_length',
      'uint32_t gss_wrap_iov_length(_Out_ uint32_t *minor, void *ctx, int conf_req, uint32_t qop, _Out_ int *conf_state, _Inout_ gss_iov_buffer_desc *iov, int count)'),
    gss_inquire_sec_context_by_oid: optional('gss_inquire_sec_context_by_oid',
      'uint32_t gss_inquire_sec_context_by_oid(_Out_ uint32_t *minor, void *ctx, void *oid, _Out_ void **set)'),
    gss_release_buffer_set: optional('gss_release_buffer_set', 'uint32_t gss_release_buffer_set(_Out_ uint32_t *minor, _Inout_ void **set)'),
    gss_acquire_cred_with_password: optional(
      'gss_acquire_cred_with_password',
      'uint32_t gss_acquire_cred_with_password(_Out_ uint32_t *minor, void *name, gss_buffer_desc *password, uint32_t time_req, void *mechs, int usage, _Out_ void **cred, void **actual_mechs, _Out_ uint32_t *time_rec)',
    ),
    gss_acquire_cred_impersonate_name: optional(
      'gss_acquire_cred_impersonate_name',
      'uint32_t gss_acquire_cred_impersonate_name(_Out_ uint32_t *minor, void *impersonator, void *name, uint32_t time_req, void *mechs, int usage, _Out_ void **cred, void **actual_mechs, _Out_ uint32_t *time_rec)',
    ),
    gsskrb5_get_subkey: optional('gsskrb5_get_subkey', 'uint32_t gsskrb5_get_subkey(_Out_ uint32_t *minor, void *ctx, _Out_ void **keyblock)'),
    gss_krb5_import_cred: optional('gss_krb5_import_cred',
      'uint32_t gss_krb5_import_cred(_Out_ uint32_t *minor, void *ccache, void *keytab_principal, void *keytab, _Out_ void **cred)'),
    gss_set_neg_mechs: optional('gss_set_neg_mechs', 'uint32_t gss_set_neg_mechs(_Out_ uint32_t *minor, void *cred, void *mechs)'),
    gss_acquire_cred_from: optional(
      'gss_acquire_cred_from',
      'uint32_t gss_acquire_cred_from(_Out_ uint32_t *minor, void *name, uint32_t time_req, void *mechs, int usage, void *cred_store, _Out_ void **cred, void **actual_mechs, _Out_ uint32_t *time_rec)',
    ),
  };
}

let loaded: Gssapi | undefined;

/**
 * Opens the GSS-API library once per process: `path` (or the environment override, or the platform search) on the
 * first call. A later call naming another path throws: one process uses one GSS library.
 */
export function gssapi(path?: string): Gssapi {
  if (!loaded) {
    const { lib, path: opened, flavour } = loadGssapi(path);
    loaded = { path: opened, flavour, fn: declare(lib) };
  } else if (path !== undefined && path !== loaded.path) {
    throw new Error(`the GSS-API library ${loaded.path} is already loaded; ${path} cannot replace it in this process`);
  }
  return loaded;
}
