// Credential and context handles: what callers hold. The native state lives in objects the handles never expose;
// a FinalizationRegistry releases it when a caller forgets, and a freed handle is refused, never dereferenced.
import { SEC_E_INVALID_HANDLE } from '../vocabulary/status.js';
import type { AcquireOutcome, PackageName, Provider, ProviderContext, ProviderCredential } from '../providers/provider.js';

/** Native states not yet released, for leak checks in tests and diagnostics. */
const live = { credentials: 0, contexts: 0 };
export function liveNativeStates(): Readonly<typeof live> {
  return { ...live };
}

/** Reference-counted native credential: the handle holds one reference, every context using it another. */
export class CredentialState {
  private refs = 1;
  /** Set when acquisition failed: the first initialize() reports it, as Windows does for a wrong password. */
  failure?: AcquireOutcome['failure'];
  constructor(
    readonly provider: Provider,
    readonly native: ProviderCredential,
  ) {
    live.credentials++;
  }
  retain(): void {
    this.refs++;
  }
  release(): void {
    if (--this.refs === 0) {
      this.native.release();
      live.credentials--;
    }
  }
}

/**
 * Where a context stands in its exchange, as the API has seen it. `continuing`: a leg returned
 * SEC_I_CONTINUE_NEEDED; `complete`: SEC_E_OK; `failed`: a later leg failed, after which GSS may have deleted or
 * half-deleted its context (MIT sets the handle to GSS_C_NO_CONTEXT; Heimdal frees the mechanism's state under a
 * handle that stays set), so no later call may pass it to the library. docs/api.md, "Context states", has the table.
 */
export type ContextPhase = 'continuing' | 'complete' | 'failed';

/** A context's native state, and the queue that serializes calls on it. */
export class ContextState {
  native?: ProviderContext;
  phase: ContextPhase = 'continuing';
  /** Why the context failed (the status of the leg that failed), for the messages of later calls. */
  failedWith?: string;
  private queue: Promise<unknown> = Promise.resolve();
  private released = false;
  constructor(
    readonly provider: Provider,
    readonly credential: CredentialState,
    /** The SPN of the first call: a re-authentication (a call without a token once complete) targets it again. */
    readonly targetName: string,
  ) {
    credential.retain();
    live.contexts++;
  }

  private pending = 0;

  /** Runs `task` after every call queued before it: GSS contexts are not safe for concurrent use. */
  serialize<T>(task: () => Promise<T>): Promise<T> {
    // With nothing queued the task starts now: waiting behind a settled queue only cost a hop and three promises
    // per leg. Otherwise it runs once the last queued call settles, either way (then's two arguments).
    const run = this.pending++ === 0 ? this.settle(task) : this.queue.then(() => this.settle(task), () => this.settle(task));
    this.queue = run;
    return run;
  }

  private async settle<T>(task: () => Promise<T>): Promise<T> {
    try {
      return await task();
    } finally {
      this.pending--;
    }
  }

  /** True while a queued call (which may be running on the libuv pool) has not finished. */
  get busy(): boolean {
    return this.pending > 0;
  }

  /** Releases the native state once the queued calls have finished (an in-flight call still uses it). */
  release(): void {
    if (this.released) return;
    this.released = true;
    void this.serialize(async () => {
      this.native?.release();
      this.native = undefined;
      this.credential.release();
      live.contexts--;
    });
  }
}

/** What every call on a failed context answers (only deleteSecurityContext still works on it). */
export function failedContext(state: ContextState): { status: number; detail: string } {
  return { status: SEC_E_INVALID_HANDLE, detail: `an earlier leg of this context failed (${state.failedWith ?? 'a failure'}); delete it and start again` };
}

const credentials = new WeakMap<CredentialsHandle, CredentialState>();
const contexts = new WeakMap<ContextHandle, ContextState>();

const finalizer = new FinalizationRegistry<CredentialState | ContextState>((state) => state.release());

/** An outbound credential from acquireCredentialsHandle. Free it with freeCredentialsHandle or `using`. */
export class CredentialsHandle {
  /** When the credential expires, where known at acquisition (the default ccache is read at each use). */
  readonly expiry: Date | undefined;
  readonly package: PackageName;

  /** @internal */
  constructor(state: CredentialState, pkg: PackageName, expiry: Date | undefined) {
    this.package = pkg;
    this.expiry = expiry;
    credentials.set(this, state);
    finalizer.register(this, state, this);
  }

  /** True once freed: every later use gives SEC_E_INVALID_HANDLE. */
  get freed(): boolean {
    return !credentials.has(this);
  }

  [Symbol.dispose](): void {
    freeCredentialState(this);
  }

  /** Keeps util.inspect and JSON free of internals. */
  toJSON(): object {
    return { package: this.package, expiry: this.expiry, freed: this.freed };
  }
}

/** A security context from initializeSecurityContext. Delete it with deleteSecurityContext or `using`. */
export class ContextHandle {
  /** @internal */
  constructor(state: ContextState) {
    contexts.set(this, state);
    finalizer.register(this, state, this);
  }

  get freed(): boolean {
    return !contexts.has(this);
  }

  [Symbol.dispose](): void {
    deleteContextState(this);
  }

  toJSON(): object {
    return { freed: this.freed };
  }
}

export function credentialState(handle: unknown): CredentialState | undefined {
  return handle instanceof CredentialsHandle ? credentials.get(handle) : undefined;
}

export function contextState(handle: unknown): ContextState | undefined {
  return handle instanceof ContextHandle ? contexts.get(handle) : undefined;
}

/** Frees a credential handle; false when it was not live. */
export function freeCredentialState(handle: CredentialsHandle): boolean {
  const state = credentials.get(handle);
  if (!state) return false;
  credentials.delete(handle);
  finalizer.unregister(handle);
  state.release();
  return true;
}

/** Deletes a context handle; false when it was not live. */
export function deleteContextState(handle: ContextHandle): boolean {
  const state = contexts.get(handle);
  if (!state) return false;
  contexts.delete(handle);
  finalizer.unregister(handle);
  state.release();
  return true;
}
