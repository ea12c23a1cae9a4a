// Redirects, as the Fetch standard follows them: which statuses, and what the next request keeps.
import { HttpNegotiateError } from './errors.js';

export const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** One request of an exchange: where, how, and what it carries. */
export interface Hop {
  url: URL;
  method: string;
  headers: Headers;
  body?: Buffer;
}

/** The next hop per the Fetch standard's redirect rules; credentials never follow to another origin. */
export function redirected(hop: Hop, status: number, next: URL): Hop {
  if (next.protocol !== 'http:' && next.protocol !== 'https:') throw new HttpNegotiateError('TOO_MANY_REDIRECTS', `redirect to an unsupported scheme ${next.protocol}`, status);
  const headers = new Headers(hop.headers);
  if (next.origin !== hop.url.origin) {
    headers.delete('authorization');
    headers.delete('cookie');
  }
  const toGet = (status === 303 && hop.method !== 'HEAD') || ((status === 301 || status === 302) && hop.method === 'POST');
  if (toGet) {
    for (const h of ['content-type', 'content-length', 'content-encoding', 'content-language', 'content-location']) headers.delete(h);
    return { url: next, method: 'GET', headers };
  }
  return { url: next, method: hop.method, headers, body: hop.body };
}
