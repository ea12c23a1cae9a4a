// Which GSS-API library this run loaded (npm test: MIT; npm run test:heimdal: Heimdal), for the differences the
// suite asserts per library (docs/platforms.md lists them with their reasons).
import { gssapiLibrary } from '../../lib/index.js';
import type { GssStatusDetail } from '../../lib/vocabulary/status.js';

export const isHeimdal = (): boolean => gssapiLibrary().flavour === 'heimdal';

/**
 * A minor status's text: MIT's message, or on Heimdal, which keeps the text of a minor per thread (our KDC calls run
 * on pool threads), possibly the status table's name for it. Returns what was matched.
 */
export function minorTextMatches(gss: GssStatusDetail | undefined, text: RegExp, tableName: string): boolean {
  const t = gss?.minorText ?? '';
  return text.test(t) || (isHeimdal() && t === tableName);
}
