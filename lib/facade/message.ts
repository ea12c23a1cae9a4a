// Message protection on an established context: EncryptMessage, DecryptMessage, MakeSignature, VerifySignature.
// Synchronous, like SSPI's (local cryptography; no thread hop), and in place: the caller's buffers are read and
// written directly, and the result's buffers are views of them resized to what was written.
import type { SecBuffer } from './api.js';
import { contextState, failedContext, type ContextHandle } from './handles.js';
import type { MessageOutcome } from '../providers/provider.js';
import { resultBuffer } from './secbuffer.js';
import * as S from '../vocabulary/status.js';

export interface MessageResult {
  status: number;
  statusName: string;
  /**
   * The message buffers after the call (views of yours, resized). Absent on failure. util.inspect and
   * JSON.stringify show each buffer's type and size only.
   */
  buffers?: SecBuffer[];
  /** DecryptMessage and VerifySignature: the QOP the sender used (SECQOP_WRAP_NO_ENCRYPT: not encrypted). */
  qop?: number;
  error?: S.SecurityError;
  gss?: S.GssStatusDetail;
}

function checkArgs(fn: string, message: unknown, seqNo: unknown, qop?: unknown): SecBuffer[] {
  // Array.from, not some(): some() skips an array's holes, which would reach the provider as missing buffers.
  if (!Array.isArray(message) || Array.from(message).some((b) => typeof b !== 'object' || b === null || !Number.isInteger(b.type) || !(b.buffer instanceof Uint8Array))) {
    throw new TypeError(`${fn}: message must be an array of { type, buffer: Uint8Array }`);
  }
  for (const [name, v] of [['messageSeqNo', seqNo], ['qop', qop ?? 0]] as const) {
    if (!Number.isInteger(v) || (v as number) < -0x80000000 || (v as number) > 0xffffffff) throw new TypeError(`${fn}: ${name} must be a 32-bit integer`);
  }
  return message as SecBuffer[];
}

function run(context: ContextHandle, call: (s: NonNullable<ReturnType<typeof contextState>>) => MessageOutcome): MessageResult {
  const state = contextState(context);
  let outcome: MessageOutcome;
  if (!state?.native) outcome = { status: S.SEC_E_INVALID_HANDLE, detail: 'the context handle is not a live, established ContextHandle' };
  else if (state.phase === 'failed') outcome = failedContext(state);
  // A call still running on the pool uses the native context: using it from here too would race.
  else if (state.busy) outcome = { status: S.SEC_E_INVALID_HANDLE, detail: 'an initializeSecurityContext call on this context has not finished' };
  else outcome = call(state);
  const result: MessageResult = { status: outcome.status, statusName: S.statusName(outcome.status) };
  // Ciphertext, signatures and plaintext print as type and size only (docs/security.md).
  if (outcome.buffers) result.buffers = outcome.buffers.map(resultBuffer);
  if (outcome.qop !== undefined) result.qop = outcome.qop;
  if (!S.isSuccess(outcome.status)) {
    result.error = new S.SecurityError(outcome.status, outcome.detail, outcome.gss);
    if (outcome.gss) result.gss = outcome.gss;
  }
  return result;
}

/**
 * EncryptMessage: buffers as Windows applications pass them, e.g. [TOKEN (cbSecurityTrailer bytes), DATA,
 * PADDING (cbBlockSize bytes)] or [STREAM_HEADER, DATA, STREAM_TRAILER]. DATA is encrypted in place.
 * `qop` 0 encrypts; SECQOP_WRAP_NO_ENCRYPT only protects integrity. `messageSeqNo` is ignored: Kerberos numbers
 * messages itself (as Windows' Kerberos package does).
 */
export function encryptMessage(context: ContextHandle, qop: number, message: SecBuffer[], messageSeqNo = 0): MessageResult {
  const buffers = checkArgs('encryptMessage', message, messageSeqNo, qop);
  return run(context, (s) => s.provider.encryptMessage(s.native!, qop, buffers));
}

/**
 * DecryptMessage: [STREAM (the whole token), DATA] (the DATA result is the plaintext, a view into STREAM), or
 * [TOKEN, DATA(, PADDING)] as EncryptMessage wrote them (DATA is decrypted in place).
 */
export function decryptMessage(context: ContextHandle, message: SecBuffer[], messageSeqNo = 0): MessageResult {
  const buffers = checkArgs('decryptMessage', message, messageSeqNo);
  return run(context, (s) => s.provider.decryptMessage(s.native!, buffers));
}

/** MakeSignature: [DATA..., TOKEN (cbMaxSignature bytes)]; the signature covers every DATA buffer, in order. */
export function makeSignature(context: ContextHandle, qop: number, message: SecBuffer[], messageSeqNo = 0): MessageResult {
  const buffers = checkArgs('makeSignature', message, messageSeqNo, qop);
  return run(context, (s) => s.provider.makeSignature(s.native!, qop, buffers));
}

/** VerifySignature: [DATA..., TOKEN]. SEC_E_MESSAGE_ALTERED when the data or signature changed. */
export function verifySignature(context: ContextHandle, message: SecBuffer[], messageSeqNo = 0): MessageResult {
  const buffers = checkArgs('verifySignature', message, messageSeqNo);
  return run(context, (s) => s.provider.verifySignature(s.native!, buffers));
}
