// One leg of a context exchange, shared by initializeSecurityContext (lib/facade/api.ts) and acceptSecurityContext
// (lib/facade/accept.ts): the provider call serialized on the context, the phase it leaves, and the end of the leg
// (the handle, a failure, the output token, ALLOCATED_MEMORY and the result).
import type { InitializeResult, SecBuffer } from './api.js';
import { ContextHandle, deleteContextState, type ContextState } from './handles.js';
import { ResultSecBuffer } from './secbuffer.js';
import type { ChannelBindings, InitializeOutcome } from '../providers/provider.js';
import { parseSecChannelBindings } from '../vocabulary/bindings.js';
import * as F from '../vocabulary/flags.js';
import * as S from '../vocabulary/status.js';
import { SecurityError, type GssStatusDetail } from '../vocabulary/status.js';

/** A failed call's result; a non-empty `token` (the acceptor's reply to a refused client) goes in `output`. */
export function failed(status: number, detail: string | undefined, context?: ContextHandle, gss?: GssStatusDetail, token?: Buffer): InitializeResult {
  const result: InitializeResult = {
    status,
    statusName: S.statusName(status),
    output: token && token.length > 0 ? [new ResultSecBuffer(F.SECBUFFER_TOKEN, token)] : [],
    contextAttr: 0,
    error: new SecurityError(status, detail, gss),
  };
  if (context) result.context = context;
  if (gss) result.gss = gss;
  return result;
}

/**
 * A leg's SECBUFFER_TOKEN (a copy of its first `limit` bytes when given) and SECBUFFER_CHANNEL_BINDINGS, the first
 * of each; bindings that do not parse are SEC_E_BAD_BINDINGS.
 */
export function readInput(input: SecBuffer[] | undefined, handle: ContextHandle | undefined, limit?: number):
  { token?: Buffer; channelBindings?: ChannelBindings } | InitializeResult {
  let token: Buffer | undefined;
  let channelBindings: ChannelBindings | undefined;
  for (const b of input ?? []) {
    const type = baseType(b.type);
    if (type === F.SECBUFFER_TOKEN && token === undefined) token = Buffer.from(limit === undefined ? b.buffer : b.buffer.subarray(0, limit));
    if (type === F.SECBUFFER_CHANNEL_BINDINGS && channelBindings === undefined) {
      const parsed = parseSecChannelBindings(Buffer.from(b.buffer));
      if (typeof parsed === 'string') return failed(S.SEC_E_BAD_BINDINGS, parsed, handle);
      channelBindings = parsed as ChannelBindings;
    }
  }
  return { token, channelBindings };
}

/**
 * Runs `call` serialized on `ctx` unless `refusal` (asked when the call runs, not when it was made: calls queued
 * behind a leg see the state that leg left) refuses it, and records the phase it leaves. On abort, the context goes:
 * a leg that finishes unseen leaves it in a state the caller cannot know.
 */
export function runLeg(ctx: ContextState, existing: ContextHandle | undefined, signal: AbortSignal | undefined,
  refusal: () => InitializeOutcome | undefined, call: () => Promise<InitializeOutcome>): Promise<InitializeOutcome> {
  const work = ctx.serialize(async () => {
    const refused = existing ? refusal() : undefined;
    if (refused) return refused;
    let outcome: InitializeOutcome;
    try {
      outcome = await call();
    } catch (err) {
      // A throw (koffi refusing a call, a bug below): the context's state is unknown, so it can only be deleted. A
      // first call's context has no handle yet and nobody else to free it: it goes now with its credential reference.
      ctx.phase = 'failed';
      ctx.failedWith = 'an exception';
      if (!existing) ctx.release();
      throw err;
    }
    ctx.native = outcome.context;
    ctx.phase = outcome.status === S.SEC_E_OK ? 'complete' : outcome.status === S.SEC_I_CONTINUE_NEEDED ? 'continuing' : 'failed';
    if (ctx.phase === 'failed') ctx.failedWith = S.statusName(outcome.status);
    return outcome;
  });
  return abortable(work, signal, () => (existing ? deleteContextState(existing) : ctx.release()));
}

export interface LegEnd {
  /** Whether the call asked for ALLOCATE_MEMORY (ISC_REQ_ or ASC_REQ_). */
  allocate: boolean;
  /** The *_RET_ALLOCATED_MEMORY bit the result reports then. */
  allocated: number;
  /** Whether a failed leg's token goes to the caller (the acceptor's reply to a refused client). */
  tokenOnFailure: boolean;
}

/** The end of a leg: the handle (created on a first call), a failure, or the output token placed and the result. */
export function endLeg(ctx: ContextState, handle: ContextHandle | undefined, outcome: InitializeOutcome, output: SecBuffer[] | undefined,
  end: LegEnd): InitializeResult {
  const failToken = end.tokenOnFailure ? outcome.token : undefined;
  if (!handle) {
    if (!outcome.context) {
      ctx.release();
      return failed(outcome.status, outcome.detail, undefined, outcome.gss, failToken);
    }
    handle = new ContextHandle(ctx);
  }
  if (!S.isSuccess(outcome.status)) return failed(outcome.status, outcome.detail, handle, outcome.gss, failToken);

  const placed = placeToken(outcome.token ?? Buffer.alloc(0), end.allocate, output);
  if (typeof placed === 'number') {
    // The context has advanced past a token the caller never got: it cannot go on.
    ctx.phase = 'failed';
    ctx.failedWith = S.statusName(placed);
    return failed(placed, `the SECBUFFER_TOKEN output buffer is too small for the ${outcome.token?.length ?? 0}-byte token`, handle);
  }
  let contextAttr = outcome.contextAttr;
  if (end.allocate) contextAttr |= end.allocated;
  const result: InitializeResult = {
    status: outcome.status,
    statusName: S.statusName(outcome.status),
    context: handle,
    output: placed,
    contextAttr: contextAttr >>> 0,
  };
  if (outcome.expiry) result.expiry = outcome.expiry;
  return result;
}

/**
 * Races `work` against `signal`. On abort, rejects at once with the signal's reason; `abandoned` receives the
 * result whenever the native call finishes, to free it. The call itself cannot be interrupted.
 */
export function abortable<T>(work: Promise<T>, signal: AbortSignal | undefined, abandoned: (result: T) => void): Promise<T> {
  if (!signal) return work;
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const onAbort = () => {
      if (settled) return;
      settled = true;
      reject(signal.reason);
      void work.then(abandoned, () => undefined);
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        if (!settled) {
          settled = true;
          resolve(value);
        }
      },
      (err) => {
        signal.removeEventListener('abort', onAbort);
        if (!settled) {
          settled = true;
          reject(err);
        }
      },
    );
  });
}

export const baseType = (type: number) => type & ~F.SECBUFFER_ATTRMASK;

/**
 * Output buffer semantics: with ALLOCATE_MEMORY (or no SECBUFFER_TOKEN buffer given) the token is a new
 * Buffer; otherwise it is copied into the caller's buffer, and the result's buffer is the filled part of it.
 */
function placeToken(token: Buffer, allocate: boolean, output?: SecBuffer[]): SecBuffer[] | number {
  const slot = output?.findIndex((b) => baseType(b.type) === F.SECBUFFER_TOKEN) ?? -1;
  if (!output || slot < 0) return [new ResultSecBuffer(F.SECBUFFER_TOKEN, token), ...(output ?? []).map(empty)];
  if (!allocate && output[slot].buffer.length < token.length) return S.SEC_E_INSUFFICIENT_MEMORY;
  return output.map((b, i) => {
    if (i !== slot) return empty(b);
    if (allocate) return new ResultSecBuffer(b.type, token);
    b.buffer.set(token);
    return new ResultSecBuffer(b.type, b.buffer.subarray(0, token.length));
  });
}

// Result buffers print their type and size only (docs/security.md: no token bytes in inspect or JSON).
const empty = (b: SecBuffer): SecBuffer => new ResultSecBuffer(b.type, b.buffer.subarray(0, 0));
