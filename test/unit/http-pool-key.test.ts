// Which calls may share a kept connection (lib/client/http/pool.ts): the key of the connection options.
import { expect } from 'chai';
import { poolKey } from '../../lib/client/http/pool.js';
import type { NegotiateHttpOptions } from '../../lib/index.js';

describe('HTTP client pool key (which calls share a kept connection)', () => {
  const url = new URL('https://www.example.test/');
  const key = (o: NegotiateHttpOptions) => poolKey(url, 'HTTP/www.example.test', o, true);

  it('a connect object changed between two calls gives another key: a connection made without certificate verification (or for another servername) never serves a call that asks for it', () => {
    const connect: NegotiateHttpOptions['connect'] = { rejectUnauthorized: false };
    const unverified = key({ connect });
    connect.rejectUnauthorized = true;
    expect(key({ connect })).to.not.equal(unverified);
    expect(key({ connect })).to.equal(key({ connect: { rejectUnauthorized: true } }));
    connect.servername = 'other.example.test';
    expect(key({ connect })).to.not.equal(key({ connect: { rejectUnauthorized: true } }));
  });

  it('a private key or passphrase is in the key only as its hash', () => {
    const k = key({ connect: { key: '-----BEGIN PRIVATE KEY-----secret', passphrase: 'hunter2' } });
    expect(k).to.not.include('secret');
    expect(k).to.not.include('hunter2');
    expect(k).to.not.equal(key({ connect: { key: '-----BEGIN PRIVATE KEY-----other', passphrase: 'hunter2' } }));
  });
});
