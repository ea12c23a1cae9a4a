// Request bodies are held in memory so that they can be sent again after a 401 (and a 407): an authentication
// exchange answers the first attempt with a challenge. A body larger than the limit cannot be replayed, and says so
// before anything is sent.
import { Readable } from 'node:stream';
import { HttpNegotiateError } from './errors.js';

/** What fetch accepts as a body and as headers (the DOM lib's BodyInit/HeadersInit, which Node's types do not name). */
export type FetchBody = ConstructorParameters<typeof Response>[0];
export type FetchHeaders = ConstructorParameters<typeof Headers>[0];

/** What a caller may pass as a body: anything fetch accepts, or a Node readable stream. */
export type RequestBody = FetchBody | Readable | null | undefined;

export interface BufferedBody {
  bytes?: Buffer;
  /** The content type implied by the body (e.g. multipart boundary for FormData), when the caller set none. */
  contentType?: string;
}

export const DEFAULT_MAX_REPLAY_BYTES = 1024 * 1024;

async function collect(chunks: AsyncIterable<Uint8Array | string>, limit: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of chunks) {
    const part = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    size += part.length;
    if (size > limit) {
      throw new HttpNegotiateError('BODY_NOT_REPLAYABLE',
        `the request body is over maxReplayBytes (${limit} bytes); it would have to be sent again after the authentication challenge`);
    }
    parts.push(part);
  }
  return Buffer.concat(parts, size);
}

/** Reads the body into memory, up to `limit` bytes. */
export async function bufferBody(body: RequestBody, limit: number): Promise<BufferedBody> {
  if (body === null || body === undefined) return {};
  if (body instanceof Readable) return { bytes: await collect(body, limit) };
  // The Fetch API's own body extraction: strings, buffers, Blob, URLSearchParams, FormData, ReadableStream.
  const extracted = new Response(body as FetchBody);
  const contentType = extracted.headers.get('content-type') ?? undefined;
  const bytes = extracted.body ? await collect(extracted.body as AsyncIterable<Uint8Array>, limit) : Buffer.alloc(0);
  return { bytes, contentType };
}
