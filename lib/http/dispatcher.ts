// Node's built-in fetch with Negotiate: `fetch(url, { dispatcher: new NegotiateDispatcher() })`. Node's fetch hands
// each request to the dispatcher's dispatch(opts, handler) and reads the answer from the handler callbacks; this one
// runs the exchange of request.ts (node:http, so channel bindings come from the connection used) and feeds the
// verified answer back. Redirects stay with fetch (each hop is dispatched, and authenticated, on its own); a failed
// authentication rejects fetch with TypeError('fetch failed') whose `cause` is the HttpNegotiateError.
import { Readable } from 'node:stream';
import type { FetchBody } from './body.js';
import { negotiateRequest, type NegotiateAuthInfo, type NegotiateHttpOptions } from './request.js';

/** What Node's fetch passes to dispatch() (undici's DispatchOptions, the part used here). */
export interface DispatchOptions {
  origin?: string | URL;
  path: string;
  method?: string;
  headers?: Record<string, string | string[] | undefined> | string[] | null;
  body?: string | Uint8Array | AsyncIterable<Uint8Array> | Iterable<Uint8Array> | null;
}

/** undici's handler callbacks (the classic form Node 20's fetch uses). */
export interface DispatchHandler {
  onConnect?(abort: (err?: Error) => void): void;
  onHeaders?(statusCode: number, headers: Buffer[], resume: () => void, statusText: string): boolean;
  onData?(chunk: Buffer): boolean;
  onComplete?(trailers: Buffer[] | null): void;
  onError?(err: Error): void;
}

export type NegotiateDispatcherOptions = Omit<NegotiateHttpOptions, 'method' | 'headers' | 'body' | 'redirect' | 'maxRedirects' | 'signal'> & {
  /** Called with what each authenticated answer established, before fetch sees it. */
  onAuthenticated?: (info: NegotiateAuthInfo, url: string) => void;
};

function headerPairs(headers: DispatchOptions['headers']): Array<[string, string]> {
  if (!headers) return [];
  if (Array.isArray(headers)) {
    const out: Array<[string, string]> = [];
    for (let i = 0; i + 1 < headers.length; i += 2) out.push([headers[i], headers[i + 1]]);
    return out;
  }
  return Object.entries(headers).flatMap(([k, v]) => (v === undefined ? [] : Array.isArray(v) ? v.map((x) => [k, x] as [string, string]) : [[k, v] as [string, string]]));
}

function body(b: DispatchOptions['body']): FetchBody | Readable | undefined {
  if (b === null || b === undefined) return undefined;
  if (typeof b === 'string' || b instanceof Uint8Array) return b;
  return Readable.from(b as AsyncIterable<Uint8Array>);
}

export class NegotiateDispatcher {
  constructor(private readonly options: NegotiateDispatcherOptions = {}) {
    if (typeof options !== 'object' || options === null) throw new TypeError('NegotiateDispatcher: options must be an object');
  }

  dispatch(opts: DispatchOptions, handler: DispatchHandler): boolean {
    const controller = new AbortController();
    handler.onConnect?.((err) => controller.abort(err));
    this.run(opts, handler, controller.signal).catch((err: Error) => handler.onError?.(err));
    return true;
  }

  private async run(opts: DispatchOptions, handler: DispatchHandler, signal: AbortSignal): Promise<void> {
    const { onAuthenticated, ...options } = this.options;
    const url = new URL(opts.path, opts.origin);
    const r = await negotiateRequest(url, {
      ...options,
      method: opts.method,
      headers: headerPairs(opts.headers),
      body: body(opts.body),
      redirect: 'manual',
      signal,
    });
    onAuthenticated?.(r.auth, r.url);
    const stream = r.body;
    signal.addEventListener('abort', () => stream.destroy(signal.reason as Error), { once: true });
    const raw = r.rawHeaders.map((h) => Buffer.from(h, 'latin1'));
    if (handler.onHeaders?.(r.status, raw, () => stream.resume(), r.statusText) === false) stream.pause();
    stream.on('data', (chunk: Buffer) => {
      if (handler.onData?.(chunk) === false) stream.pause();
    });
    stream.once('end', () => handler.onComplete?.([]));
    stream.once('error', (err) => handler.onError?.(err));
  }

  /** Nothing pooled across requests: each exchange closes its own connections. */
  async close(): Promise<void> {}

  async destroy(): Promise<void> {}
}

/**
 * The init for Node's built-in fetch: `fetch(url, { ...withNegotiate(options), method: 'POST', body })`. Typed as
 * RequestInit because @types/node types `dispatcher` as undici's full Dispatcher class, of which Node's fetch calls
 * only dispatch().
 */
export function withNegotiate(options?: NegotiateDispatcherOptions): RequestInit {
  return { dispatcher: new NegotiateDispatcher(options) } as unknown as RequestInit;
}
