// Node's built-in fetch with Negotiate: `fetch(url, { dispatcher: new NegotiateDispatcher() })`. Node's fetch hands
// each request to the dispatcher's dispatch(opts, handler) and reads the answer from the handler callbacks; this one
// runs the exchange of request.ts (node:http, so channel bindings come from the connection used) and feeds the
// verified answer back. Redirects stay with fetch (each hop is dispatched, and authenticated, on its own); a failed
// authentication rejects fetch with TypeError('fetch failed') whose `cause` is the HttpNegotiateError.
//
// Two handler shapes exist. undici 8 (Node 26's fetch, and the `undici` package's current major: its fetch,
// request() and stream()) passes the controller form its Dispatcher.md documents: onRequestStart(controller),
// onResponseStart(controller, status, headers, statusMessage), onResponseData, onResponseEnd, onResponseError, with
// backpressure through controller.pause()/resume(). The fetch of undici 6 and 7 (Node 20, 22 and 24) passes only
// the legacy form: onConnect(abort), onHeaders(status, rawHeaders, resume, statusText) returning false to pause,
// onData, onComplete, onError. A handler with onRequestStart or onResponseStart gets the controller form (undici's
// own WrapHandler decides the same way); any other gets the legacy one, which is kept for those three Node lines.
import type { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import type { FetchBody } from './body.js';
import { negotiateRequest, type NegotiateAuthInfo, type NegotiateHttpOptions } from './request.js';

/** What fetch passes to dispatch() (undici's DispatchOptions, the part used here). */
export interface DispatchOptions {
  origin?: string | URL;
  path: string;
  method?: string;
  headers?: Record<string, string | string[] | undefined> | string[] | null;
  body?: string | Uint8Array | AsyncIterable<Uint8Array> | Iterable<Uint8Array> | null;
}

/** undici's DispatchController: what a controller-form handler is given with each callback. */
export interface DispatchController {
  readonly aborted: boolean;
  readonly paused: boolean;
  readonly reason: Error | null;
  /** The response's name/value pairs as received (set before onResponseStart). */
  rawHeaders: Buffer[] | null;
  rawTrailers: Buffer[] | null;
  abort(reason: Error): void;
  pause(): void;
  resume(): void;
}

/** undici's handler in the controller form it documents from version 7 on (what undici 8's fetch passes). */
export interface DispatchHandler {
  onRequestStart?(controller: DispatchController, context: unknown): void;
  onResponseStarted?(): void;
  onResponseStart?(controller: DispatchController, statusCode: number, headers: IncomingHttpHeaders, statusMessage?: string): void;
  onResponseData?(controller: DispatchController, chunk: Buffer): void;
  onResponseEnd?(controller: DispatchController, trailers: IncomingHttpHeaders): void;
  onResponseError?(controller: DispatchController, error: Error): void;
}

/** undici's legacy handler callbacks (what the fetch of Node 20, 22 and 24 passes). */
export interface LegacyDispatchHandler {
  onConnect?(abort: (err?: Error) => void): void;
  onResponseStarted?(): void;
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

/** The answer's side of one dispatch, whichever handler form it speaks. Each callback after the last is dropped. */
interface Sink {
  start(status: number, headers: IncomingHttpHeaders, raw: Buffer[], statusText: string): void;
  data(chunk: Buffer): void;
  end(): void;
  error(err: Error): void;
}

function isControllerHandler(h: DispatchHandler | LegacyDispatchHandler): h is DispatchHandler {
  return typeof (h as DispatchHandler).onRequestStart === 'function' || typeof (h as DispatchHandler).onResponseStart === 'function';
}

export class NegotiateDispatcher {
  constructor(private readonly options: NegotiateDispatcherOptions = {}) {
    if (typeof options !== 'object' || options === null) throw new TypeError('NegotiateDispatcher: options must be an object');
  }

  dispatch(opts: DispatchOptions, handler: DispatchHandler | LegacyDispatchHandler): boolean {
    const abort = new AbortController();
    let stream: Readable | undefined;
    let finished = false;
    let paused = false;
    const pause = () => {
      paused = true;
      stream?.pause();
    };
    const resume = () => {
      paused = false;
      stream?.resume();
    };
    const once = <A extends unknown[]>(f: (...a: A) => void) => (...a: A) => {
      if (finished) return;
      finished = true;
      f(...a);
    };
    let sink: Sink;
    if (isControllerHandler(handler)) {
      const controller: DispatchController = {
        get aborted() { return abort.signal.aborted; },
        get paused() { return paused; },
        get reason() { return abort.signal.aborted ? (abort.signal.reason as Error) : null; },
        rawHeaders: null,
        rawTrailers: null,
        abort: (reason) => abort.abort(reason),
        pause,
        resume,
      };
      sink = {
        start: (status, headers, raw, statusText) => {
          controller.rawHeaders = raw;
          handler.onResponseStarted?.();
          handler.onResponseStart?.(controller, status, headers, statusText);
        },
        data: (chunk) => handler.onResponseData?.(controller, chunk),
        end: once(() => {
          controller.rawTrailers = [];
          handler.onResponseEnd?.(controller, {});
        }),
        error: once((err: Error) => handler.onResponseError?.(controller, err)),
      };
      handler.onRequestStart?.(controller, {});
    } else {
      sink = {
        start: (status, _headers, raw, statusText) => {
          handler.onResponseStarted?.();
          if (handler.onHeaders?.(status, raw, resume, statusText) === false) pause();
        },
        data: (chunk) => {
          if (handler.onData?.(chunk) === false) pause();
        },
        end: once(() => handler.onComplete?.([])),
        error: once((err: Error) => handler.onError?.(err)),
      };
      handler.onConnect?.((err) => abort.abort(err));
    }
    this.run(opts, sink, abort.signal, (s) => {
      stream = s;
      if (paused) s.pause();
    }).catch((err: Error) => sink.error(err));
    return true;
  }

  private async run(opts: DispatchOptions, sink: Sink, signal: AbortSignal, attach: (s: Readable) => void): Promise<void> {
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
    if (signal.aborted) {
      stream.destroy();
      throw signal.reason;
    }
    signal.addEventListener('abort', () => stream.destroy(signal.reason as Error), { once: true });
    stream.once('end', () => sink.end());
    stream.once('error', (err) => sink.error(err));
    sink.start(r.status, r.headers, r.rawHeaders.map((h) => Buffer.from(h, 'latin1')), r.statusText);
    attach(stream);
    stream.on('data', (chunk: Buffer) => sink.data(chunk));
  }

  /**
   * Nothing to close: connections are kept per process (pool.ts), shared with negotiateFetch and negotiateRequest
   * under the same authentication, unref'd and closed when idle.
   */
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
