// Where the provider-level suite runs, for the few gates it needs. Every gate names a documented deviation of Wine's
// SSPI from Windows (docs/platforms.md, "Wine"), so the same assertions hold on Linux (GSS-API), macOS and Windows,
// and Wine's differences are asserted as what they are rather than skipped.
import { SspiProvider } from '../../lib/providers/sspi.js';

export const windows = process.platform === 'win32';

/** Wine's version when the Windows provider runs under Wine, undefined elsewhere (real Windows, Linux, macOS). */
export const wine: string | undefined = windows ? SspiProvider.wineVersion() : undefined;

/** What the suite title says about the provider in use. */
export const providerLabel = windows ? `SSPI, secur32.dll${wine ? ` under Wine ${wine}` : ''}` : 'GSS-API';
