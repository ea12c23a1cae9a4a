// The HTTP acceptor's parts that need no KDC: the Authorization header as a server reads it, the initial-token test
// that starts a new exchange on a connection, the realm of a principal, and negotiate()'s option checks.
import { expect } from 'chai';
import { MAX_TOKEN_TEXT, isInitialToken, parseAuthorization } from '../../lib/server/authorization.js';
import { negotiate, realmOf, type NegotiateMiddlewareOptions } from '../../lib/server/middleware.js';
import { findNegotiate } from '../../lib/client/http/challenge.js';

describe('HTTP acceptor: the Authorization header', () => {
  it('classifies absent, other schemes, Negotiate tokens and malformed values', () => {
    expect(parseAuthorization(undefined)).to.deep.equal({ kind: 'none' });
    expect(parseAuthorization('   ')).to.deep.equal({ kind: 'none' });
    expect(parseAuthorization('Basic YWxpY2U6eA==')).to.deep.equal({ kind: 'other', scheme: 'Basic' });
    const ok = parseAuthorization('negotiate  YIIBAA==');
    expect(ok.kind).to.equal('negotiate');
    expect((ok as { token: Buffer }).token).to.deep.equal(Buffer.from([0x60, 0x82, 0x01, 0x00]));
    for (const bad of ['Negotiate', 'Negotiate ', 'Negotiate !!', 'Negotiate YII= YII=', 'Negotiate Y', 'Negotiate ====', `Negotiate ${'A'.repeat(MAX_TOKEN_TEXT + 4)}`, '\u0000x y']) {
      expect(parseAuthorization(bad).kind, JSON.stringify(bad.slice(0, 20))).to.equal('malformed');
    }
    expect(parseAuthorization(['Negotiate YII=', 'Negotiate YII=']).kind).to.equal('malformed');
  });

  it('reads base64 exactly as the client does (lib/protocol/base64.ts): padded, nothing else', () => {
    // Fails on the old code, which took unpadded and wrongly padded text (its own, looser check).
    for (const bad of ['Negotiate YWI', 'Negotiate YQ=', 'Negotiate YWJjZA=', 'Negotiate YWJj=']) {
      expect(parseAuthorization(bad).kind, bad).to.equal('malformed');
      expect(() => findNegotiate([bad]), bad).to.throw(/not base64/);
    }
    for (const good of ['Negotiate YWI=', 'Negotiate YQ==', 'Negotiate YWJj']) {
      expect(parseAuthorization(good).kind, good).to.equal('negotiate');
      expect(findNegotiate([good])?.token).to.deep.equal((parseAuthorization(good) as { token: Buffer }).token);
    }
  });

  it('never repeats the value of a malformed header in its reason', () => {
    const secret = 'Negotiate c2VjcmV0LXRva2Vu!';
    const r = parseAuthorization(secret) as { why: string };
    expect(r.why).to.not.include('c2VjcmV0');
  });

  it('an InitialContextToken ([APPLICATION 0]) starts a new exchange; NegTokenResp does not', () => {
    expect(isInitialToken(Buffer.from([0x60, 0x03]))).to.equal(true);
    expect(isInitialToken(Buffer.from([0xa1, 0x03]))).to.equal(false);
  });

  it('the realm is what follows the last unescaped @', () => {
    expect(realmOf('alice@EXAMPLE.COM')).to.equal('EXAMPLE.COM');
    expect(realmOf('a\\@b@R.ORG')).to.equal('R.ORG');
    expect(realmOf('HTTP/web@X')).to.equal('X');
    expect(realmOf('nobody')).to.equal('');
  });

  it('negotiate(): options are checked at construction', () => {
    const bad: unknown[] = [
      undefined, {}, { keytab: '' }, { keytab: '/k', credential: {} }, { keytab: '/k', ntlm: true }, { keytab: '/k', channelBindings: 'sometimes' },
      { keytab: '/k', mutual: 'maybe' }, { keytab: '/k', delegation: 'yes' }, { keytab: '/k', onError: 1 }, { keytab: '/k', allowedPrincipals: 'alice' },
      { keytab: '/k', allowedRealms: 5 }, { keytab: '/k', frobnicate: 1 },
    ];
    for (const options of bad) expect(() => negotiate(options as NegotiateMiddlewareOptions), JSON.stringify(options)).to.throw(TypeError);
    const h = negotiate({ keytab: '/k', allowedPrincipals: (p) => p.startsWith('a'), allowedRealms: ['R'] });
    expect(h).to.be.a('function');
    expect(h.decide).to.be.a('function');
    h.close();
  });
});
