// The SPNEGO DER codec with hand-built vectors: valid tokens both ways, and every kind of malformed input.
import { expect } from 'chai';
import { DerError, encodeOid, decodeOid, readTlv } from '../../lib/protocol/der.js';
import {
  MECH_OID, SpnegoError, decodeNegToken, encodeMechTypeList, encodeNegTokenInit, encodeNegTokenResp,
  unwrapInitialContextToken, wrapInitialContextToken,
} from '../../lib/protocol/tokens.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function rejects(buf: Buffer, reason?: RegExp): void {
  let caught: unknown;
  try {
    decodeNegToken(buf);
  } catch (err) {
    caught = err;
  }
  expect(caught, `no error for ${buf.toString('hex')}`).to.be.instanceOf(SpnegoError);
  if (reason) expect((caught as SpnegoError).reason).to.match(reason);
}

// NegTokenInit offering krb5, MS krb5 and NTLM, with a 3-byte mechToken, in its RFC 2743 framing.
const INIT = hex(`
  60 3a 06 06 2b0601050502
  a0 30 30 2e
     a0 24 30 22
        06 09 2a864886f712010202
        06 09 2a864882f712010202
        06 0a 2b06010401823702020a
     a2 06 04 04 01020304`);

// NegTokenResp: accept-completed, krb5 selected, a responseToken.
const RESP = hex(`
  a1 1b 30 19
     a0 03 0a 01 00
     a1 0b 06 09 2a864886f712010202
     a2 05 04 03 aabbcc`);

describe('SPNEGO codec', () => {
  it('encodes a NegTokenInit to the exact DER and decodes it back', () => {
    const mechTypes = [MECH_OID.KRB5, MECH_OID.MS_KRB5, MECH_OID.NTLM];
    expect(encodeNegTokenInit({ mechTypes, mechToken: hex('01020304') }).toString('hex')).to.equal(INIT.toString('hex'));
    const decoded = decodeNegToken(INIT);
    expect(decoded.kind).to.equal('init');
    if (decoded.kind !== 'init') return;
    expect(decoded.token.mechTypes).to.deep.equal(mechTypes);
    expect(decoded.token.mechToken!.toString('hex')).to.equal('01020304');
    expect(decoded.token.mechTypesDer.equals(encodeMechTypeList(mechTypes))).to.equal(true);
  });

  it('encodes a NegTokenResp to the exact DER and decodes it back', () => {
    const resp = { negState: 'accept-completed' as const, supportedMech: MECH_OID.KRB5, responseToken: hex('aabbcc') };
    expect(encodeNegTokenResp(resp).toString('hex')).to.equal(RESP.toString('hex'));
    expect(decodeNegToken(RESP)).to.deep.equal({ kind: 'resp', token: resp });
  });

  it('round-trips every negState, a MIC, reqFlags and a bare [0] NegTokenInit', () => {
    for (const negState of ['accept-completed', 'accept-incomplete', 'reject', 'request-mic'] as const) {
      const resp = { negState, mechListMIC: hex('0102') };
      expect(decodeNegToken(encodeNegTokenResp(resp))).to.deep.equal({ kind: 'resp', token: resp });
    }
    expect(decodeNegToken(encodeNegTokenResp({}))).to.deep.equal({ kind: 'resp', token: {} });
    const withFlags = encodeNegTokenInit({ mechTypes: [MECH_OID.KRB5], reqFlags: 0b1000110, mechListMIC: hex('99') });
    const d = decodeNegToken(withFlags);
    expect(d.kind === 'init' && d.token.reqFlags).to.equal(0b1000110);
    expect(d.kind === 'init' && d.token.mechListMIC!.toString('hex')).to.equal('99');
    const bare = unwrapInitialContextToken(withFlags).inner;
    expect(decodeNegToken(bare)).to.deep.equal(d);
  });

  it('tolerates Microsoft\'s NegTokenInit2 (negHints at [3], mechListMIC at [4])', () => {
    const mechTypes = encodeMechTypeList([MECH_OID.MS_KRB5, MECH_OID.KRB5]);
    const negHints = hex('a3 1a 30 18 a0 16 1b 14');
    const hintName = Buffer.from('not_defined_in_RFC41');
    const body = Buffer.concat([hex('a0'), Buffer.from([mechTypes.length]), mechTypes, negHints, hintName]);
    const token = Buffer.concat([hex('a0'), Buffer.from([body.length + 2]), hex('30'), Buffer.from([body.length]), body]);
    const d = decodeNegToken(token);
    expect(d.kind === 'init' && d.token.mechTypes).to.deep.equal([MECH_OID.MS_KRB5, MECH_OID.KRB5]);
  });

  it('rejects the token truncated at every byte', () => {
    for (const token of [INIT, RESP]) {
      for (let n = 0; n < token.length; n++) rejects(token.subarray(0, n));
    }
  });

  it('rejects bad lengths: beyond the buffer, indefinite, non-minimal, over 4 length bytes', () => {
    rejects(hex('a1 05 30 03 a0 01'), /past the end|truncated/);
    rejects(hex('a1 80 30 00 00 00'), /indefinite/);
    rejects(hex('a1 81 02 30 00'), /non-minimal/);
    rejects(hex('a1 85 00 00 00 00 02 30 00'), /over 4/);
    rejects(hex('a1 84 ff ff ff ff'), /past the end/);
  });

  it('rejects wrong tags, wrong framing OIDs, trailing garbage and field misuse', () => {
    rejects(hex('a2 02 30 00'), /neither/);
    rejects(wrapInitialContextToken(MECH_OID.KRB5, hex('a0 02 30 00')), /not SPNEGO/);
    rejects(Buffer.concat([RESP, hex('00')]), /trailing/);
    rejects(hex('a1 0a 30 08 a1 03 06 01 2a a0 01 00'), /order or repeated/);
    rejects(hex('a1 0c 30 0a a0 03 0a 01 00 a0 03 0a 01 00'), /order or repeated/);
    rejects(hex('a1 07 30 05 a5 03 0a 01 00'), /unexpected field/);
    rejects(hex('a1 07 30 05 a0 03 0a 01 07'), /negState/);
    rejects(hex('a0 06 30 04 a0 02 30 00'), /empty/);
    rejects(hex('a1 07 30 05 a1 03 30 01 00'), /tag|OID/);
  });

  it('rejects a thousand nested SEQUENCEs quickly, without recursion', () => {
    let nested = Buffer.alloc(0);
    for (let i = 0; i < 1000; i++) nested = Buffer.concat([hex('30'), lengthOf(nested.length), nested]);
    const started = process.hrtime.bigint();
    rejects(Buffer.concat([hex('a1'), lengthOf(nested.length), nested]));
    expect(Number(process.hrtime.bigint() - started) / 1e6).to.be.lessThan(50);
  });

  it('encodes and decodes OIDs strictly', () => {
    for (const oid of Object.values(MECH_OID)) expect(decodeOid(encodeOid(oid))).to.equal(oid);
    expect(() => decodeOid(Buffer.alloc(0))).to.throw(DerError);
    expect(() => decodeOid(hex('2a 80 01'))).to.throw(DerError, /non-minimal/);
    expect(() => decodeOid(hex('2a 86'))).to.throw(DerError, /truncated/);
    expect(() => readTlv(hex('1f 01 00'), 0)).to.throw(DerError, /multi-byte/);
  });
});

function lengthOf(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}
