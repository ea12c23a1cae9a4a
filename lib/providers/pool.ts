// The bound on native calls that may wait on a KDC. They run on the libuv pool (4 threads unless
// UV_THREADPOOL_SIZE says otherwise), which fs, dns and crypto share: a KDC outage must not take every thread.
// By default one thread stays free for the rest of the process.
import { busy, nextTurn } from './slice.js';

const poolSize = Math.max(1, Number(process.env.UV_THREADPOOL_SIZE) || 4);
let limit = Math.max(1, poolSize - 1);
let running = 0;
const waiting: Array<() => void> = [];

/** Sets how many calls that may reach a KDC run at once (the rest queue, in order); returns the previous limit. */
export function setMaxConcurrentKdcCalls(n: number): number {
  if (!Number.isInteger(n) || n < 1) throw new TypeError('the limit must be a positive integer');
  const previous = limit;
  limit = n;
  while (running < limit && waiting.length) {
    running++;
    waiting.shift()!();
  }
  return previous;
}

export function kdcCallStats(): { limit: number; running: number; queued: number } {
  return { limit, running, queued: waiting.length };
}

/** Runs `task` when a slot is free. */
export async function limited<T>(task: () => Promise<T>): Promise<T> {
  if (running >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
  else running++;
  try {
    return await task();
  } finally {
    const next = waiting.shift();
    if (next) next();
    else running--;
  }
}

/**
 * A native call (GSS, krb5 or SSPI) on the libuv pool, within the bound on concurrent KDC calls. Its dispatch and
 * its continuation each wait for a loop turn with budget left (slice.ts); the slot is given back before.
 */
export async function callAsync(fn: { async: (...args: unknown[]) => void }, ...args: unknown[]): Promise<number> {
  // Marshalling the arguments of an async call is work on the loop too (about 0.15 ms): a burst of calls is sliced.
  if (busy()) await nextTurn();
  const status = await limited(() => new Promise<number>((resolve, reject) => {
    fn.async(...args, (err: unknown, res: number) => (err ? reject(err) : resolve(res)));
  }));
  if (busy()) await nextTurn();
  return status;
}
