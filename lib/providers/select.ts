// Picks the backend for this platform once: GSS-API on Linux and macOS, SSPI on Windows.
import { gssapi } from '../../ffi/gssapi.js';
import { secur32 } from '../../ffi/secur32.js';
import * as S from '../vocabulary/status.js';
import { GssapiProvider } from './gssapi.js';
import type { Provider } from './provider.js';
import { SspiProvider } from './sspi.js';

let provider: Provider | undefined;

/** The provider for this process; throws SecurityError(SEC_E_SECPKG_NOT_FOUND) when no backend library loads. */
export function currentProvider(): Provider {
  if (!provider) {
    const windows = process.platform === 'win32';
    try {
      if (windows) secur32();
      else gssapi();
    } catch (err) {
      throw new S.SecurityError(S.SEC_E_SECPKG_NOT_FOUND, (err as Error).message);
    }
    provider = windows ? new SspiProvider() : new GssapiProvider();
  }
  return provider;
}
