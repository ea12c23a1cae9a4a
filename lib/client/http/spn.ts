// The service principal for a URL: HTTP/<host>, as browsers and curl do. DNS canonicalization (following CNAMEs to
// the name the key is registered under) is opt-in: it trusts whoever answers DNS to choose which service we
// authenticate to, so by default the name the caller wrote is the name we ask the KDC for.
import { promises as dns } from 'node:dns';

export interface SpnOptions {
  /** An explicit SPN: used as is. */
  spn?: string;
  /** Add the URL's port, as `HTTP/host:port` (some services register that form). Default false. */
  spnPort?: boolean;
  /** Follow the host's CNAME chain and use the final name. Default false (see docs/http.md). */
  canonicalize?: boolean;
  /** The service class, `HTTP` by default. */
  service?: string;
}

const MAX_CNAME_HOPS = 8;

async function canonicalName(host: string): Promise<string> {
  let name = host;
  for (let hop = 0; hop < MAX_CNAME_HOPS; hop++) {
    let next: string[];
    try {
      next = await dns.resolveCname(name);
    } catch {
      return name; // no CNAME (or no DNS answer): this is the canonical name
    }
    if (next.length === 0) return name;
    name = next[0].replace(/\.$/, '').toLowerCase();
  }
  return name;
}

/** The SPN for `url` under the options. */
export async function spnForUrl(url: URL, options: SpnOptions = {}): Promise<string> {
  if (options.spn !== undefined) return options.spn;
  let host = url.hostname.replace(/^\[|\]$/g, '');
  if (options.canonicalize) host = await canonicalName(host);
  const port = options.spnPort && url.port ? `:${url.port}` : '';
  return `${options.service ?? 'HTTP'}/${host}${port}`;
}
