import { expect } from 'chai';
import { HttpNegotiateError, findNegotiate, parseChallenges } from '../../lib/index.js';

function badChallenge(fn: () => unknown): HttpNegotiateError {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(HttpNegotiateError);
    expect((err as HttpNegotiateError).code).to.equal('BAD_CHALLENGE');
    return err as HttpNegotiateError;
  }
  throw new Error('expected BAD_CHALLENGE');
}

describe('WWW-Authenticate parsing (RFC 9110 section 11)', () => {
  it('reads several challenges in one header, with token68 and auth-params', () => {
    expect(parseChallenges('Negotiate, Basic realm="a, \\"b\\"", charset=UTF-8, NTLM TlRMTVNTUAAB==, Bearer')).to.deep.equal([
      { scheme: 'Negotiate', params: {} },
      { scheme: 'Basic', params: { realm: 'a, "b"', charset: 'UTF-8' } },
      { scheme: 'NTLM', token68: 'TlRMTVNTUAAB==', params: {} },
      { scheme: 'Bearer', params: {} },
    ]);
  });

  it('accepts empty list elements, tabs and spaces around "=", and lower-cases parameter names', () => {
    expect(parseChallenges(' ,, Digest\tRealm = "x" ,  ,nonce=abc ,')).to.deep.equal([{ scheme: 'Digest', params: { realm: 'x', nonce: 'abc' } }]);
  });

  it('keeps parameters named like Object.prototype members as plain data', () => {
    const [c] = parseChallenges('Basic __proto__="x", constructor=y, toString=z');
    expect(Object.getPrototypeOf(c.params)).to.equal(null);
    expect(Object.entries(c.params)).to.deep.equal([['__proto__', 'x'], ['constructor', 'y'], ['tostring', 'z']]);
  });

  it('tells a token68 with padding from a parameter', () => {
    expect(parseChallenges('Negotiate YII=')[0].token68).to.equal('YII=');
    expect(parseChallenges('Negotiate a=b')[0].params).to.deep.equal({ a: 'b' });
    expect(parseChallenges('Negotiate YQ==, Basic')[0].token68).to.equal('YQ==');
  });

  it('refuses malformed headers with BAD_CHALLENGE, never a crash', () => {
    for (const bad of ['Basic realm="open', 'Negotiate abc def', '=abc', 'Negotiate YQ== x', 'Basic a=b c', 'Basic a=1, a=2', 'Basic realm="x\\', 'Neg"otiate']) {
      badChallenge(() => parseChallenges(bad));
    }
    badChallenge(() => parseChallenges(`Negotiate ${'A'.repeat(70_000)}`));
  });

  it('finds the Negotiate token across several headers, case-insensitively', () => {
    const token = Buffer.from([0xa1, 0x14, 0x30, 0x12]);
    expect(findNegotiate(['Basic realm="r"', `nEgOtIaTe ${token.toString('base64')}`])?.token).to.deep.equal(token);
    expect(findNegotiate(['Negotiate'])).to.deep.equal({});
    expect(findNegotiate(['Basic realm="r"'])).to.equal(undefined);
    expect(findNegotiate([])).to.equal(undefined);
  });

  it('refuses two Negotiate tokens, and a token that is not base64', () => {
    badChallenge(() => findNegotiate(['Negotiate YQ==', 'Negotiate Yg==']));
    badChallenge(() => findNegotiate(['Negotiate YQ-_']));
    badChallenge(() => findNegotiate(['Negotiate YQ']));
  });

  it('survives random headers: every input parses or gives BAD_CHALLENGE', () => {
    const alphabet = 'Negotiate Basic realm="=,\\\t YQ==+/-._~!#';
    let seed = 7;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
    for (let i = 0; i < 5000; i++) {
      let s = '';
      for (let j = rnd(40); j > 0; j--) s += alphabet[rnd(alphabet.length)];
      try {
        findNegotiate([s]);
      } catch (err) {
        expect(err, s).to.be.instanceOf(HttpNegotiateError);
      }
    }
  });
});
