// A fetch-compatible entry point: the Fetch API's inputs and a standard Response, with the Negotiate exchange of
// request.ts underneath (node:http, because channel bindings need the certificate of the connection actually used,
// which fetch does not expose).
import { Readable } from 'node:stream';
import { type FetchBody } from './body.js';
import { negotiateRequest, type NegotiateAuthInfo, type NegotiateHttpOptions } from './request.js';

/** fetch's init, plus the Negotiate options under `negotiate`. */
export interface NegotiateFetchInit extends Omit<RequestInit, 'body' | 'redirect'> {
  body?: NegotiateHttpOptions['body'];
  redirect?: 'follow' | 'manual';
  negotiate?: Omit<NegotiateHttpOptions, 'method' | 'headers' | 'body' | 'signal' | 'redirect'>;
}

/** A standard Response, with what the authentication established. */
export type NegotiateFetchResponse = Response & { readonly negotiate: NegotiateAuthInfo };

const NULL_BODY = new Set([101, 103, 204, 205, 304]);

/** The body's chunks; when the signal aborts the read, it fails with the signal's reason, as fetch's body does. */
async function* failWithReason(body: AsyncIterable<Buffer>, signal: AbortSignal): AsyncGenerator<Buffer> {
  try {
    for await (const chunk of body) yield chunk;
  } catch (err) {
    throw signal.aborted ? signal.reason : err;
  }
}

/**
 * Like `fetch(input, init)`, authenticating with Negotiate when the server (or `negotiate.proxy`) asks. Rejects
 * with HttpNegotiateError when the server cannot be authenticated (its answer is then never exposed), and with
 * `signal.reason` when the signal aborts (the body too, when the abort comes while it is read), as fetch does.
 */
export async function negotiateFetch(input: string | URL | Request, init: NegotiateFetchInit | null = {}): Promise<NegotiateFetchResponse> {
  // As fetch: a null init is no init.
  init ??= {};
  if (typeof init !== 'object') throw new TypeError('negotiateFetch: init must be an object');
  const request = input instanceof Request ? input : undefined;
  const url = request ? request.url : String(input);
  const method = init.method ?? request?.method ?? 'GET';
  const headers = new Headers(init.headers ?? request?.headers);
  const body = init.body !== undefined ? init.body : (request?.body as FetchBody | undefined);
  const signal = init.signal ?? request?.signal ?? undefined;
  const r = await negotiateRequest(url, {
    ...init.negotiate,
    method,
    headers,
    body,
    redirect: init.redirect,
    signal,
  });
  const responseHeaders = new Headers();
  for (let i = 0; i < r.rawHeaders.length; i += 2) responseHeaders.append(r.rawHeaders[i], r.rawHeaders[i + 1]);
  const hasBody = method.toUpperCase() !== 'HEAD' && !NULL_BODY.has(r.status);
  if (!hasBody) r.body.resume();
  const stream = signal ? Readable.from(failWithReason(r.body, signal), { objectMode: false }) : r.body;
  const response = new Response(hasBody ? (Readable.toWeb(stream) as ReadableStream<Uint8Array>) : null, {
    status: r.status,
    statusText: r.statusText,
    headers: responseHeaders,
  });
  Object.defineProperties(response, {
    negotiate: { value: r.auth, enumerable: true },
    url: { value: r.url },
    redirected: { value: r.redirected },
  });
  return response as NegotiateFetchResponse;
}
