// koffi's memory for asynchronous calls, set before the first library is opened (koffi refuses it after).
// Each async call runs on a stack and an argument heap of its own (128 KiB each). koffi keeps 8 of them resident;
// every call beyond the 8th in flight maps fresh ones with mmap and unmaps them when it returns, on the event-loop
// thread: measured on Linux with 20 calls in flight (bench/koffi-probe.ts, docs/performance.md), 89 µs of loop CPU
// per call against 12 µs with enough resident. Up to 32 (koffi's maximum) are kept resident; a slot is mapped the
// first time that many calls are in flight at once, so a process that never has more than 8 pays nothing more.
// Best effort: when another module opened a library through the same koffi first, its configuration stands.
import koffi from 'koffi';

/** koffi's upper bound on resident async memories (MaxResidentAsyncPools in its ffi.hh). */
export const RESIDENT_ASYNC_MEMORIES = 32;

try {
  koffi.config({ resident_async_pools: RESIDENT_ASYNC_MEMORIES });
} catch {
  // a library was opened already: koffi's defaults (or that module's choice) stay
}
