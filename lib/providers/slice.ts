// Cooperative time slicing of the JavaScript work that follows native calls. libuv runs every pool completion that
// is ready in one go, and each runs its continuation (decoding results, the SPNEGO layer, a second leg's local GSS
// call) before the loop moves on: with a hundred exchanges in flight that is tens of milliseconds in one turn, and
// every timer and socket of the process waits. So a continuation first asks `busy()`: once this turn has spent
// BUDGET_MS on such work, the rest wait for the next turn (`nextTurn`), and timers and I/O run in between.

/** The work one loop turn does for us before the rest is put off. */
const BUDGET_MS = 2;

let sliceStart = 0;
let sliceOpen = false;

function endSlice(): void {
  sliceOpen = false;
}

/** Whether this loop turn has already spent its budget; the first call in a turn starts the count. */
export function busy(): boolean {
  const now = performance.now();
  if (!sliceOpen) {
    sliceOpen = true;
    sliceStart = now;
    // Runs at the start of the next check phase, before any continuation put off with nextTurn() in this turn.
    setImmediate(endSlice);
    return false;
  }
  return now - sliceStart > BUDGET_MS;
}

/** Waits until a loop turn has budget left. */
export async function nextTurn(): Promise<void> {
  do await new Promise<void>((resolve) => setImmediate(resolve));
  while (busy());
}
