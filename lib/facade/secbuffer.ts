// The SecBuffers that results hand back (initializeSecurityContext's output, the message calls' buffers),
// NegotiateClient's steps and the session key: `.buffer` / `.token` / `.sessionKey` are the real bytes, but
// util.inspect and JSON.stringify show only the type and the size. A token is a credential for its lifetime, and
// results end up in logs (docs/security.md).
import { inspect } from 'node:util';
import type { SecBuffer } from './api.js';
import * as F from '../vocabulary/flags.js';

const FLAG_BITS = new Set(['SECBUFFER_ATTRMASK', 'SECBUFFER_READONLY', 'SECBUFFER_READONLY_WITH_CHECKSUM', 'SECBUFFER_VERSION']);
const TYPE_NAMES = new Map<number, string>(
  Object.entries(F)
    .filter(([k, v]) => k.startsWith('SECBUFFER_') && !FLAG_BITS.has(k) && typeof v === 'number')
    .map(([k, v]) => [v as number, k]),
);

/** `SECBUFFER_TOKEN`, `SECBUFFER_DATA | SECBUFFER_READONLY` ..., or the number for a type we do not know. */
export function secBufferTypeName(type: number): string {
  const base = type & ~F.SECBUFFER_ATTRMASK;
  const names = [TYPE_NAMES.get(base) ?? String(base)];
  if (type & F.SECBUFFER_READONLY) names.push('SECBUFFER_READONLY');
  if (type & F.SECBUFFER_READONLY_WITH_CHECKSUM) names.push('SECBUFFER_READONLY_WITH_CHECKSUM');
  return names.join(' | ');
}

/** A SecBuffer whose bytes are not enumerable and never printed. */
export class ResultSecBuffer implements SecBuffer {
  type: number;
  #buffer: Uint8Array;

  constructor(type: number, buffer: Uint8Array) {
    this.type = type;
    this.#buffer = buffer;
  }

  get buffer(): Uint8Array {
    return this.#buffer;
  }

  set buffer(value: Uint8Array) {
    this.#buffer = value;
  }

  toJSON(): { type: number; size: number } {
    return { type: this.type, size: this.#buffer.length };
  }

  [inspect.custom](): string {
    return `SecBuffer { type: ${secBufferTypeName(this.type)}, size: ${this.#buffer.length} }`;
  }
}

/** The result form of a buffer. */
export function resultBuffer(b: SecBuffer): ResultSecBuffer {
  return new ResultSecBuffer(b.type, b.buffer);
}

/** SECPKG_ATTR_SESSION_KEY's value: the key is readable, never printed. */
export class SessionKeyValue {
  readonly keyType: number;
  readonly #sessionKey: Buffer;

  constructor(value: { sessionKey: Buffer; keyType: number }) {
    this.keyType = value.keyType;
    this.#sessionKey = value.sessionKey;
  }

  get sessionKey(): Buffer {
    return this.#sessionKey;
  }

  toJSON(): { keyType: number; size: number } {
    return { keyType: this.keyType, size: this.#sessionKey.length };
  }

  [inspect.custom](): string {
    return `SessionKey { keyType: ${this.keyType}, size: ${this.#sessionKey.length} }`;
  }
}
