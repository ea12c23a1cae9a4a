// The options and results of an HTTP Negotiate exchange (RFC 4559), and the check of the options.
import type * as http from 'node:http';
import type * as https from 'node:https';
import type { CredentialsHandle } from '../../facade/api.js';
import { checkCString } from '../../facade/cstring.js';
import type { FetchHeaders, RequestBody } from './body.js';
import type { SpnOptions } from './spn.js';

export type MutualPolicy = 'required' | 'optional' | 'none';
export type DelegationPolicy = 'none' | 'policy' | 'always';

export interface NegotiateHttpOptions extends SpnOptions {
  method?: string;
  headers?: FetchHeaders;
  body?: RequestBody;
  /**
   * `required` (default): the server's final token must complete mutual authentication, or the request fails with
   * MUTUAL_AUTH_FAILED and its answer is discarded. `optional`: a missing final token is accepted (reported as
   * `auth.mutual === false`), a bad one still fails. `none`: not asked for (and `auth.mutual` is false).
   */
  mutual?: MutualPolicy;
  /** tls-server-end-point channel bindings (RFC 5929) from the connection used. Default: on for https. */
  channelBindings?: boolean;
  /** `none` (default), `policy` (to targets the KDC marks ok-as-delegate), `always` (unconstrained). */
  delegate?: DelegationPolicy;
  /** Credentials to use; default: the default credential cache. */
  credential?: CredentialsHandle;
  /** Extra ISC_REQ_* flags, e.g. ISC_REQ_USE_DCE_STYLE for a three-leg exchange. */
  contextReq?: number;
  /**
   * `true`: send a token with the first request instead of waiting for a 401. `false`: always wait for the 401.
   * Default: send it at once only to an origin that asked for Negotiate and proved itself (mutual authentication)
   * before, in this process, for the same credential and options (docs/http.md, "Kept connections").
   */
  preemptive?: boolean;
  /** An explicit HTTP proxy (`http://proxy:3128`), for http: targets. */
  proxy?: string | URL;
  /** The proxy's SPN; default `HTTP/<proxy host>`. */
  proxySpn?: string;
  /** Largest body held for replay after a challenge. Default 1 MiB. */
  maxReplayBytes?: number;
  /** Most requests in one authentication exchange. Default 5. */
  maxLegs?: number;
  /** `follow` (default) or `manual`. A redirect authenticates anew for its target; no token crosses hosts. */
  redirect?: 'follow' | 'manual';
  maxRedirects?: number;
  /**
   * Connection options: `ca`, `rejectUnauthorized`, `lookup`, `cert`, `key`, `servername`... Kept connections are
   * shared by calls whose options are equal: primitives by value, objects and functions by identity.
   */
  connect?: https.AgentOptions;
  /** Abandons the exchange: the promise rejects with the signal's reason, as fetch's does. */
  signal?: AbortSignal;
}

export interface NegotiateAuthInfo {
  /** A Negotiate token was sent on the request whose answer this is. */
  authenticated: boolean;
  /**
   * The server proved its identity: mutual authentication was asked for, granted (ISC_RET_MUTUAL_AUTH) and its
   * final token verified. Never true with `mutual: 'none'`, nor for a context the server's answer did not complete.
   */
  mutual: boolean;
  /**
   * Our token carried tls-server-end-point channel bindings of the connection used. The client cannot see whether
   * the server checked them (mod_auth_gssapi 1.6 ignores them); one that checks refuses a mismatch.
   */
  channelBindings: boolean;
  /** The SPN asked for. */
  spn?: string;
  /** Our principal, as the context reports it. */
  client?: string;
  /** Requests sent for the last hop (1 = answered without a challenge). */
  legs: number;
  /** ISC_RET_* flags of the context. */
  contextAttr: number;
  /** Proxy authentication, when a proxy asked for it. */
  proxy?: { authenticated: boolean; mutual: boolean; spn: string };
}

export interface NegotiateHttpResponse {
  status: number;
  statusText: string;
  headers: http.IncomingHttpHeaders;
  /** Name/value pairs as received. */
  rawHeaders: string[];
  /** The body stream (node:http's IncomingMessage). */
  body: http.IncomingMessage;
  /** The URL of the final hop. */
  url: string;
  redirected: boolean;
  auth: NegotiateAuthInfo;
}

export function checkOptions(o: NegotiateHttpOptions): void {
  if (typeof o !== 'object' || o === null) throw new TypeError('options must be an object');
  if (o.mutual !== undefined && !['required', 'optional', 'none'].includes(o.mutual)) throw new TypeError('mutual must be "required", "optional" or "none"');
  if (o.delegate !== undefined && !['none', 'policy', 'always'].includes(o.delegate)) throw new TypeError('delegate must be "none", "policy" or "always"');
  if (o.redirect !== undefined && !['follow', 'manual'].includes(o.redirect)) throw new TypeError('redirect must be "follow" or "manual"');
  // Parts of the SPN: checked here, before any request, as the API checks every string that becomes a C string.
  for (const key of ['spn', 'proxySpn', 'service'] as const) {
    const v = o[key];
    if (v !== undefined && typeof v !== 'string') throw new TypeError(`${key} must be a string`);
    if (v !== undefined) checkCString(v, key);
  }
  for (const key of ['maxReplayBytes', 'maxLegs', 'maxRedirects'] as const) {
    const v = o[key];
    if (v !== undefined && (!Number.isSafeInteger(v) || v < 0)) throw new TypeError(`${key} must be a non-negative integer`);
  }
}
