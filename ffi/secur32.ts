// koffi declarations of SSPI (sspi.h) in secur32.dll: the W functions, their structs, nothing else. The layouts are
// Windows' own (natural alignment; ULONG is 32 bits, ULONG_PTR and pointers the machine's width); __stdcall only
// matters on ia32, where koffi's prototype strings carry it.
import koffi from 'koffi';
import './async-memory.js';
import type { LibraryHandle } from './load.js';

type Fn = ReturnType<LibraryHandle['func']>;

const CALL = process.arch === 'ia32' ? '__stdcall ' : '';

/**
 * The SSPI structs. `named` registers them under their C names for the prototypes (once per process); unnamed
 * copies let the layout tests compute them.
 */
export function sspiStructTypes(named = false) {
  const make = (name: string, fields: Record<string, unknown>) =>
    (named ? koffi.struct(name, fields as never) : koffi.struct(fields as never)) as ReturnType<typeof koffi.struct>;
  const buffer = make('SecBuffer', { cbBuffer: 'uint32_t', BufferType: 'uint32_t', pvBuffer: 'void *' });
  return {
    SecHandle: make('SecHandle', { dwLower: 'uintptr_t', dwUpper: 'uintptr_t' }),
    SecBuffer: buffer,
    SecBufferDesc: make('SecBufferDesc', { ulVersion: 'uint32_t', cBuffers: 'uint32_t', pBuffers: 'void *' }),
    SEC_WINNT_AUTH_IDENTITY_W: make('SEC_WINNT_AUTH_IDENTITY_W', {
      User: 'void *', UserLength: 'uint32_t', Domain: 'void *', DomainLength: 'uint32_t',
      Password: 'void *', PasswordLength: 'uint32_t', Flags: 'uint32_t',
    }),
    SecPkgContext_Sizes: make('SecPkgContext_Sizes', { cbMaxToken: 'uint32_t', cbMaxSignature: 'uint32_t', cbBlockSize: 'uint32_t', cbSecurityTrailer: 'uint32_t' }),
    SecPkgInfoW: make('SecPkgInfoW', {
      fCapabilities: 'uint32_t', wVersion: 'uint16_t', wRPCID: 'uint16_t', cbMaxToken: 'uint32_t', Name: 'void *', Comment: 'void *',
    }),
  };
}

export const { SecHandle, SecBuffer, SecBufferDesc, SEC_WINNT_AUTH_IDENTITY_W, SecPkgContext_Sizes, SecPkgInfoW } =
  process.platform === 'win32' ? sspiStructTypes(true) : sspiStructTypes(false);

export const SECBUFFER_VERSION = 0;
export const SEC_WINNT_AUTH_IDENTITY_UNICODE = 2;
export const SECPKG_CRED_INBOUND = 1;
export const SECPKG_CRED_OUTBOUND = 2;
export const SECURITY_NATIVE_DREP = 0x10;

export interface Secur32Functions {
  AcquireCredentialsHandleW: Fn;
  InitializeSecurityContextW: Fn;
  AcceptSecurityContext: Fn;
  ImpersonateSecurityContext: Fn;
  RevertSecurityContext: Fn;
  DeleteSecurityContext: Fn;
  FreeCredentialsHandle: Fn;
  FreeContextBuffer: Fn;
  QueryContextAttributesW: Fn;
  QueryCredentialsAttributesW: Fn;
  QuerySecurityPackageInfoW: Fn;
  EnumerateSecurityPackagesW: Fn;
  CompleteAuthToken: Fn;
  EncryptMessage: Fn;
  DecryptMessage: Fn;
  MakeSignature: Fn;
  VerifySignature: Fn;
  wine_get_version?: Fn;
}

let loaded: Secur32Functions | undefined;

/** secur32.dll's functions (Windows only). */
export function secur32(): Secur32Functions {
  if (loaded) return loaded;
  const lib = koffi.load('secur32.dll');
  const f = (proto: string) => lib.func(proto.replace(/^int32_t /, `int32_t ${CALL}`));
  let wine: Fn | undefined;
  try {
    // Present only under Wine: the tests gate Wine's known deviations on it.
    wine = koffi.load('ntdll.dll').func('const char *wine_get_version()');
  } catch {
    wine = undefined;
  }
  loaded = {
    AcquireCredentialsHandleW: f('int32_t AcquireCredentialsHandleW(const char16_t *principal, const char16_t *pkg, uint32_t use, void *logonId, void *authData, void *getKeyFn, void *getKeyArg, _Out_ SecHandle *cred, _Out_ int64_t *expiry)'),
    InitializeSecurityContextW: f('int32_t InitializeSecurityContextW(SecHandle *cred, SecHandle *ctx, const char16_t *target, uint32_t req, uint32_t reserved1, uint32_t drep, void *input, uint32_t reserved2, _Inout_ SecHandle *newCtx, void *output, _Out_ uint32_t *attr, _Out_ int64_t *expiry)'),
    AcceptSecurityContext: f('int32_t AcceptSecurityContext(SecHandle *cred, SecHandle *ctx, void *input, uint32_t req, uint32_t drep, _Inout_ SecHandle *newCtx, void *output, _Out_ uint32_t *attr, _Out_ int64_t *expiry)'),
    ImpersonateSecurityContext: f('int32_t ImpersonateSecurityContext(SecHandle *ctx)'),
    RevertSecurityContext: f('int32_t RevertSecurityContext(SecHandle *ctx)'),
    DeleteSecurityContext: f('int32_t DeleteSecurityContext(SecHandle *ctx)'),
    FreeCredentialsHandle: f('int32_t FreeCredentialsHandle(SecHandle *cred)'),
    FreeContextBuffer: f('int32_t FreeContextBuffer(void *buffer)'),
    QueryContextAttributesW: f('int32_t QueryContextAttributesW(SecHandle *ctx, uint32_t attribute, void *buffer)'),
    QueryCredentialsAttributesW: f('int32_t QueryCredentialsAttributesW(SecHandle *cred, uint32_t attribute, void *buffer)'),
    QuerySecurityPackageInfoW: f('int32_t QuerySecurityPackageInfoW(const char16_t *name, _Out_ void **info)'),
    EnumerateSecurityPackagesW: f('int32_t EnumerateSecurityPackagesW(_Out_ uint32_t *count, _Out_ void **info)'),
    CompleteAuthToken: f('int32_t CompleteAuthToken(SecHandle *ctx, void *token)'),
    EncryptMessage: f('int32_t EncryptMessage(SecHandle *ctx, uint32_t qop, void *message, uint32_t seq)'),
    DecryptMessage: f('int32_t DecryptMessage(SecHandle *ctx, void *message, uint32_t seq, _Out_ uint32_t *qop)'),
    MakeSignature: f('int32_t MakeSignature(SecHandle *ctx, uint32_t qop, void *message, uint32_t seq)'),
    VerifySignature: f('int32_t VerifySignature(SecHandle *ctx, void *message, uint32_t seq, _Out_ uint32_t *qop)'),
    wine_get_version: wine,
  };
  return loaded;
}
