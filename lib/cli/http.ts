// The command line's HTTP and diagnostic commands: `fetch URL` (curl --negotiate, verified) and `credentials`.
import { readFileSync } from 'node:fs';
import type { LookupFunction } from 'node:net';
import { EXIT, failure, print } from './output.js';
import {
  HttpNegotiateError, SEC_E_SECPKG_NOT_FOUND, SECPKG_CRED_ATTR_NAMES, SECPKG_ATTR_LIFESPAN, SecurityError, acquireCredentialsHandle,
  freeCredentialsHandle, gssapiLibrary, negotiateFetch, queryCredentialsAttributes, type DelegationPolicy, type GssapiLibraryInfo,
  type MutualPolicy,
} from '../index.js';

export class UsageError extends Error {}

export interface FetchFlags {
  method?: string;
  data?: string;
  header?: string[];
  spn?: string;
  mutual?: string;
  'no-channel-bindings'?: boolean;
  delegate?: string;
  proxy?: string;
  cacert?: string;
  resolve?: string[];
  preemptive?: boolean;
  principal?: string;
}

/** curl's --resolve host:port:address, as a lookup function (the port is not used: names map to addresses). */
function resolver(entries: string[]): LookupFunction | undefined {
  if (entries.length === 0) return undefined;
  const map = new Map<string, string>();
  for (const e of entries) {
    const m = /^([^:]+):\d*:(.+)$/.exec(e);
    if (!m) throw new UsageError(`--resolve takes host:port:address, not "${e}"`);
    map.set(m[1].toLowerCase(), m[2].replace(/^\[|\]$/g, ''));
  }
  return ((host: string, options: { all?: boolean; family?: number }, cb: (...a: unknown[]) => void) => {
    const address = map.get(host.toLowerCase()) ?? host;
    const family = address.includes(':') ? 6 : 4;
    if (options?.all) cb(null, [{ address, family }]);
    else cb(null, address, family);
  }) as unknown as LookupFunction;
}

export async function fetchCommand(url: string, f: FetchFlags, json: boolean): Promise<number> {
  if (!['required', 'optional', 'none'].includes(f.mutual ?? 'required')) throw new UsageError('--mutual must be required, optional or none');
  if (!['none', 'policy', 'always'].includes(f.delegate ?? 'none')) throw new UsageError('--delegate must be none, policy or always');
  const headers = new Headers();
  for (const h of f.header ?? []) {
    const i = h.indexOf(':');
    if (i <= 0) throw new UsageError(`--header takes "Name: value", not "${h}"`);
    try {
      headers.append(h.slice(0, i).trim(), h.slice(i + 1).trim());
    } catch (err) {
      throw new UsageError(`--header "${h.slice(0, i).trim()}": ${(err as Error).message}`);
    }
  }
  let ca: Buffer | undefined;
  try {
    if (f.cacert) ca = readFileSync(f.cacert);
  } catch (err) {
    throw new UsageError(`--cacert: ${(err as Error).message}`);
  }
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    throw new UsageError(`not a URL: ${url}`);
  }
  const credential = f.principal ? await acquireCredentialsHandle({ principal: f.principal }) : undefined;
  try {
    const res = await negotiateFetch(target, {
      method: f.method,
      headers,
      body: f.data,
      negotiate: {
        spn: f.spn,
        mutual: f.mutual as MutualPolicy,
        channelBindings: f['no-channel-bindings'] ? false : undefined,
        delegate: f.delegate as DelegationPolicy,
        proxy: f.proxy,
        preemptive: f.preemptive,
        credential,
        connect: { lookup: resolver(f.resolve ?? []), ...(ca ? { ca } : {}) },
      },
    });
    const body = await res.text();
    const a = res.negotiate;
    if (json) {
      print(true, { status: res.status, url: res.url, auth: a, headers: Object.fromEntries(res.headers), body }, '');
    } else {
      process.stdout.write(body);
      process.stderr.write(`HTTP ${res.status} ${res.statusText}\n`
        + (a.authenticated
          ? `authenticated as ${a.client ?? '(unknown)'} to ${a.spn} in ${a.legs} request(s); mutual authentication: ${a.mutual ? 'yes' : 'no'}; channel bindings: ${a.channelBindings ? 'yes' : 'no'}\n`
          : 'not authenticated (the server did not ask)\n')
        + (a.proxy ? `proxy: authenticated to ${a.proxy.spn}; mutual authentication: ${a.proxy.mutual ? 'yes' : 'no'}\n` : ''));
    }
    return res.status >= 400 ? EXIT.HTTP_STATUS : EXIT.OK;
  } finally {
    if (credential) freeCredentialsHandle(credential);
  }
}

export function httpFailure(err: HttpNegotiateError, json: boolean): number {
  const cause = err.cause as { statusName?: string; gss?: unknown } | undefined;
  if (json) print(true, { error: err.code, httpStatus: err.status, message: err.message, status: cause?.statusName, gss: cause?.gss }, '');
  else process.stderr.write(`${err.code}: ${err.message}\n`);
  return EXIT.SECURITY;
}

/** The GSS-API library; none loadable is SEC_E_SECPKG_NOT_FOUND, as initializeSecurityContext reports it. */
export function loadedLibrary(): GssapiLibraryInfo {
  try {
    return gssapiLibrary();
  } catch (err) {
    if (err instanceof TypeError) throw err;
    throw new SecurityError(SEC_E_SECPKG_NOT_FOUND, (err as Error).message);
  }
}

export async function credentialsCommand(principal: string | undefined, json: boolean): Promise<number> {
  const library = loadedLibrary();
  const ccache = process.env.KRB5CCNAME ?? '(the library default: default_ccache_name in krb5.conf, else FILE:/tmp/krb5cc_<uid>)';
  const credential = await acquireCredentialsHandle({ principal });
  try {
    const names = await queryCredentialsAttributes(credential, SECPKG_CRED_ATTR_NAMES);
    if (names.error) return failure(names.error, json);
    const life = await queryCredentialsAttributes(credential, SECPKG_ATTR_LIFESPAN);
    if (life.error) return failure(life.error, json);
    const expiry = life.value!.expiry;
    const value = { ccache, principal: names.value!.userName, expiry, expired: expiry.getTime() <= Date.now(), library };
    print(json, value, `ccache:    ${ccache}\nprincipal: ${value.principal}\nexpires:   ${expiry.toISOString()}${value.expired ? ' (expired)' : ''}\nlibrary:   ${library.flavour} ${library.path}`);
    return value.expired ? EXIT.SECURITY : EXIT.OK;
  } finally {
    freeCredentialsHandle(credential);
  }
}
