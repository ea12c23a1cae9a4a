// The structural check of Kerberos replies made before a GSS library parses them (Heimdal crashed on such input).
import { expect } from 'chai';
import { krb5ReplyProblem } from '../../lib/protocol/krb5-token.js';
import { TAG, oidTlv, tlv } from '../../lib/protocol/der.js';

const KRB5 = '1.2.840.113554.1.2.2';
/** A shape-correct AP-REP: [APPLICATION 15] SEQUENCE { [0] INTEGER 5, [1] INTEGER 15, [2] EncryptedData }. */
const apRep = tlv(0x6f, tlv(TAG.SEQUENCE,
  tlv(0xa0, Buffer.from([0x02, 0x01, 0x05])), tlv(0xa1, Buffer.from([0x02, 0x01, 0x0f])),
  tlv(0xa2, tlv(TAG.SEQUENCE, tlv(0xa0, Buffer.from([0x02, 0x01, 0x12])), tlv(0xa2, tlv(TAG.OCTET_STRING, Buffer.alloc(40, 7)))))));
const framed = (oid: string, tokId: number[], body: Buffer) => tlv(TAG.APPLICATION_0, oidTlv(oid), Buffer.from(tokId), body);

describe('Kerberos reply check (before the GSS library sees a reply)', () => {
  it('accepts a well-formed AP-REP in RFC 2743 framing, and a bare one in DCE style', () => {
    expect(krb5ReplyProblem(framed(KRB5, [2, 0], apRep), false)).to.equal(undefined);
    expect(krb5ReplyProblem(framed(KRB5, [3, 0], tlv(0x7e, tlv(TAG.SEQUENCE))), false)).to.equal(undefined);
    expect(krb5ReplyProblem(apRep, true)).to.equal(undefined);
  });

  it('refuses the input that crashed Heimdal: a mutated OID in the header', () => {
    // Fuzz case 81 (seed 20261124): 2a 86 48 ... became 2a 81 48 ...
    const token = framed(KRB5, [2, 0], apRep);
    token[token.indexOf(0x86)] = 0x81;
    expect(krb5ReplyProblem(token, false)).to.match(/not for the Kerberos mechanism|malformed/);
  });

  it('refuses inconsistent framing, trailing bytes, other TOK_IDs and broken inner DER', () => {
    const good = framed(KRB5, [2, 0], apRep);
    expect(krb5ReplyProblem(good.subarray(0, good.length - 1), false)).to.be.a('string');
    expect(krb5ReplyProblem(Buffer.concat([good, Buffer.from([0])]), false)).to.be.a('string');
    expect(krb5ReplyProblem(framed(KRB5, [1, 0], apRep), false)).to.match(/neither an AP-REP nor a KRB-ERROR/);
    expect(krb5ReplyProblem(framed('1.3.6.1.5.5.2', [2, 0], apRep), false)).to.match(/not for the Kerberos mechanism/);
    const inner = Buffer.from(apRep);
    inner[3] = 0x7f; // the SEQUENCE's length now runs past its container
    expect(krb5ReplyProblem(framed(KRB5, [2, 0], inner), false)).to.match(/malformed/);
    expect(krb5ReplyProblem(Buffer.from([0x6f, 0x00, 0x00]), true)).to.match(/trailing/);
    expect(krb5ReplyProblem(Buffer.alloc(0), false)).to.be.a('string');
  });

  it('survives random bytes and random mutations without throwing', () => {
    let seed = 11;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
    const base = framed(KRB5, [2, 0], apRep);
    for (let i = 0; i < 5000; i++) {
      const t = Buffer.from(base);
      for (let k = 1 + rnd(4); k > 0; k--) t[rnd(t.length)] = rnd(256);
      const r = krb5ReplyProblem(i % 3 ? t : t.subarray(0, rnd(t.length)), i % 2 === 0);
      expect(r === undefined || typeof r === 'string').to.equal(true);
    }
  });
});
