// A seeded fuzz loop over the SPNEGO decoder and the token describer: every input gives a value or SpnegoError,
// never another exception. FUZZ_SEED and FUZZ_RUNS reproduce or widen a run.
import { expect } from 'chai';
import { describeToken } from '../../lib/protocol/describe.js';
import { MECH_OID, SpnegoError, decodeNegToken, encodeNegTokenInit, encodeNegTokenResp, wrapInitialContextToken } from '../../lib/protocol/tokens.js';
import { mulberry32, mutate } from '../harness/mutate.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20261124);
const RUNS = Number(process.env.FUZZ_RUNS ?? 5000);

const krb5ApReq = wrapInitialContextToken(MECH_OID.KRB5, Buffer.concat([Buffer.from('0100', 'hex'), Buffer.from('6e820100', 'hex'), Buffer.alloc(256, 0x30)]));
const SEEDS = [
  encodeNegTokenInit({ mechTypes: [MECH_OID.KRB5, MECH_OID.NTLM], reqFlags: 0x7f, mechToken: krb5ApReq, mechListMIC: Buffer.alloc(28, 1) }),
  encodeNegTokenResp({ negState: 'accept-completed', supportedMech: MECH_OID.KRB5, responseToken: Buffer.alloc(150, 2), mechListMIC: Buffer.alloc(28, 3) }),
  encodeNegTokenResp({ negState: 'request-mic' }),
  krb5ApReq,
  Buffer.concat([Buffer.from('NTLMSSP\0', 'latin1'), Buffer.from([1, 0, 0, 0]), Buffer.alloc(24)]),
];

describe(`SPNEGO decoder fuzz (seed ${SEED}, ${RUNS} cases)`, () => {
  it('never throws anything but SpnegoError, and the describer never throws', function () {
    this.timeout(60_000);
    const rng = mulberry32(SEED);
    let decoded = 0;
    let rejected = 0;
    for (let i = 0; i < RUNS; i++) {
      let input = SEEDS[i % SEEDS.length];
      for (let rounds = 1 + Math.floor(rng() * 3); rounds > 0; rounds--) input = mutate(input, rng);
      try {
        decodeNegToken(input);
        decoded++;
      } catch (err) {
        if (!(err instanceof SpnegoError)) throw new Error(`case ${i} (seed ${SEED}): ${(err as Error).name}: ${(err as Error).message}`, { cause: err });
        rejected++;
      }
      expect(() => describeToken(input), `describe, case ${i} (seed ${SEED})`).to.not.throw();
    }
    expect(decoded + rejected).to.equal(RUNS);
    expect(rejected, 'mutations do reach the error paths').to.be.greaterThan(RUNS / 4);
  });
});
