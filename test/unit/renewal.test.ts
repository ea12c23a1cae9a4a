// The renewal schedule (lib/providers/renewal.ts) with a refresh played by the test: when it runs, what calls get
// meanwhile, single-flight, backoff, expiry and the end of the road. The real KDC's side is test/integration/renewal.
import { expect } from 'chai';
import { RETRY_MIN_MS, Renewer, type Renewable, type RenewalEvent } from '../../lib/providers/renewal.js';
import type { Failure as GssFailure } from '../../lib/providers/failure.js';
import { SEC_E_NO_AUTHENTICATING_AUTHORITY } from '../../lib/vocabulary/status.js';

type T = Renewable & { id: number };

/** A TGT that started `ago` ms ago and ends in `left` ms. */
const tgt = (id: number, ago: number, left: number): T => ({ id, method: 'keytab', times: { start: new Date(Date.now() - ago), end: new Date(Date.now() + left) } });
const down: GssFailure = { status: SEC_E_NO_AUTHENTICATING_AUTHORITY, gss: { major: 0xd0000, minor: -1765328228, majorText: '', minorText: 'Cannot contact any KDC' } };

/** A refresh the test answers by hand. */
function scripted() {
  const calls: Array<(r: T | GssFailure) => void> = [];
  return { calls, refresh: () => new Promise<T | GssFailure>((resolve) => calls.push(resolve)) };
}

describe('renewal schedule', () => {
  const made: Array<Renewer<T>> = [];
  afterEach(() => made.splice(0).forEach((r) => r.stop()));
  const renewer = (initial: T, refresh: () => Promise<T | GssFailure>, events: RenewalEvent[] = [], replaced: T[] = [], method?: () => RenewalEvent['method'] | undefined) => {
    const r = new Renewer<T>(initial, refresh, (old) => replaced.push(old), (e) => events.push(e), method);
    made.push(r);
    return r;
  };

  it('before half-life: the TGT in use, no renewal', async () => {
    const s = scripted();
    const r = renewer(tgt(1, 1000, 10_000), s.refresh);
    expect(((await r.current()) as T).id).to.equal(1);
    expect(s.calls.length).to.equal(0);
    expect(r.dueAt()).to.be.closeTo(Date.now() + 4500, 50);
  });

  it('past half-life: 20 concurrent calls get the old TGT at once and start one renewal; later calls get the new one', async () => {
    const s = scripted();
    const events: RenewalEvent[] = [];
    const replaced: T[] = [];
    const r = renewer(tgt(1, 6000, 4000), s.refresh, events, replaced);
    const got = await Promise.all(Array.from({ length: 20 }, () => r.current()));
    expect(got.map((b) => (b as T).id)).to.deep.equal(Array(20).fill(1));
    expect(s.calls.length, 'single-flight').to.equal(1);
    s.calls[0](tgt(2, 0, 10_000));
    await r.settled();
    expect(((await r.current()) as T).id).to.equal(2);
    expect(replaced.map((b) => b.id), 'the old one handed back').to.deep.equal([1]);
    expect(events.map((e) => [e.outcome, e.statusName, e.method])).to.deep.equal([['renewed', 'SEC_E_OK', 'keytab']]);
  });

  it('a failed renewal before expiry: calls keep the old TGT; retries back off (1 s, 2 s), never past half the time left', async () => {
    const s = scripted();
    const events: RenewalEvent[] = [];
    const r = renewer(tgt(1, 20_000, 10_000), s.refresh, events);
    expect(((await r.current()) as T).id).to.equal(1);
    s.calls[0](down);
    await r.settled();
    expect(((await r.current()) as T).id, 'still the old TGT').to.equal(1);
    expect(s.calls.length, 'no retry before the backoff').to.equal(1);
    const [first] = events;
    expect([first.outcome, first.statusName, first.expired, first.gss!.minor]).to.deep.equal(['failed', 'SEC_E_NO_AUTHENTICATING_AUTHORITY', false, -1765328228]);
    expect(first.nextAttempt!.getTime() - Date.now()).to.be.closeTo(RETRY_MIN_MS, 50);
    const retry = r.start();
    expect(s.calls.length).to.equal(2);
    s.calls[1](down);
    await retry;
    expect(events[1].nextAttempt!.getTime() - Date.now(), 'doubled').to.be.closeTo(2 * RETRY_MIN_MS, 50);
    expect(events[1].failuresBefore).to.equal(1);
    // 3 s left: the next retry comes within half of it, not after 4 s.
    const late = renewer(tgt(3, 20_000, 3000), s.refresh, events);
    for (let i = 0; i < 3; i++) {
      const attempt = late.start();
      s.calls.at(-1)!(down);
      await attempt;
    }
    expect(events.at(-1)!.nextAttempt!.getTime() - Date.now()).to.be.at.most(1550);
  });

  it('expired: a call waits for a renewal and gets its failure (the true status); at most one attempt a second; then recovery', async () => {
    const s = scripted();
    const r = renewer(tgt(1, 10_000, 0), s.refresh);
    const first = r.current();
    expect(s.calls.length, 'the call started a renewal').to.equal(1);
    s.calls[0](down);
    expect((await first) as GssFailure).to.deep.equal(down);
    expect((await r.current()) as GssFailure, 'within a second: the same answer, no attempt').to.deep.equal(down);
    expect(s.calls.length).to.equal(1);
    await new Promise((resolve) => setTimeout(resolve, RETRY_MIN_MS + 20));
    const again = r.current();
    expect(s.calls.length).to.equal(2);
    s.calls[1](tgt(2, 0, 10_000));
    expect(((await again) as T).id, 'the KDC is back').to.equal(2);
  });

  it('no way left (a password TGT past renew-till, no callback): one failed event, then no more attempts', async () => {
    const events: RenewalEvent[] = [];
    let refreshes = 0;
    const r = renewer(tgt(1, 6000, 4000), async () => {
      refreshes++;
      return down;
    }, events, [], () => undefined);
    await r.start();
    await r.start();
    expect(refreshes).to.equal(1);
    expect(events.length).to.equal(1);
    expect(events[0].nextAttempt).to.equal(undefined);
  });

  it('a renewal that finishes after the handle went hands its TGT back at once', async () => {
    const s = scripted();
    const replaced: T[] = [];
    const r = renewer(tgt(1, 6000, 4000), s.refresh, [], replaced);
    void r.current();
    expect(r.stop().id).to.equal(1);
    s.calls[0](tgt(2, 0, 10_000));
    await r.settled();
    expect(replaced.map((b) => b.id)).to.deep.equal([2]);
  });
});
