// koffi's resident memories for async calls (ffi/async-memory.ts): set before any library opens, so that up to 32
// native calls in flight on the pool reuse their stacks instead of mapping and unmapping fresh ones per call.
import { expect } from 'chai';
import koffi from 'koffi';
import { gssapi } from '../../ffi/gssapi.js';

describe('koffi async memory (ffi/async-memory.ts)', () => {
  it('keeps 32 async call memories resident once the GSS library is open (koffi defaults to 8)', () => {
    // Through the library's own loader only: this file must not import ffi/async-memory.ts itself.
    gssapi();
    expect(koffi.config().resident_async_pools).to.equal(32);
    // The total stays koffi's default: more than 32 in flight still work, as temporaries.
    expect(koffi.config().max_async_calls).to.be.at.least(256);
  });

  it('20 async calls in flight at once complete (each on its own resident memory)', async () => {
    const getpid = koffi.load('libc.so.6').func('int getpid()');
    const pids = await Promise.all(Array.from({ length: 20 }, () => new Promise<number>((resolve, reject) => {
      getpid.async((err: unknown, pid: number) => (err ? reject(err) : resolve(pid)));
    })));
    expect(new Set(pids)).to.deep.equal(new Set([process.pid]));
  });
});
