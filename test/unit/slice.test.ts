// Cooperative time slicing (lib/providers/slice.ts): within one loop turn, work past the budget is put off to a
// later turn, and timers run in between; a new turn starts with a fresh budget.
import { expect } from 'chai';
import { busy, nextTurn } from '../../lib/providers/slice.js';

/** Spins the CPU for `ms` milliseconds (the synchronous work of a continuation). */
function spin(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

/** Waits for a fresh loop turn (no slice open). */
const freshTurn = () => new Promise<void>((resolve) => setTimeout(resolve, 5));

describe('time slicing of continuations (slice.ts)', () => {
  it('a turn has a budget: not busy at first, busy once it is spent, not busy in the next turn', async () => {
    await freshTurn();
    expect(busy(), 'the first continuation of a turn').to.equal(false);
    expect(busy(), 'still within the budget').to.equal(false);
    spin(10);
    expect(busy(), 'after 10 ms of work in the same turn').to.equal(true);
    await freshTurn();
    expect(busy(), 'a new turn').to.equal(false);
  });

  it('continuations past the budget wait for later turns, and a timer due meanwhile runs between them', async () => {
    await freshTurn();
    const order: string[] = [];
    let timerAt = -1;
    setTimeout(() => { timerAt = order.length; }, 1);
    // Twenty continuations of 3 ms each, all ready in the same turn (as pool completions are).
    await Promise.all(Array.from({ length: 20 }, async (_, i) => {
      if (busy()) await nextTurn();
      spin(3);
      order.push(`c${i}`);
    }));
    expect(order).to.have.length(20);
    // Without slicing the timer would wait for all 60 ms of work (timerAt 20).
    expect(timerAt, 'the timer ran before all continuations were done').to.be.within(1, 19);
  });
});
