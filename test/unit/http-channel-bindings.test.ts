// tls-server-end-point against certificates made by openssl with each signature hash; the expected value is
// computed independently with openssl's own digest of the DER.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HttpNegotiateError, tlsServerEndPoint } from '../../lib/index.js';

function makeCert(dir: string, keyArgs: string[], digest?: string): Buffer {
  const key = join(dir, 'key.pem');
  const der = join(dir, 'cert.der');
  execFileSync('openssl', ['req', '-x509', ...keyArgs, '-nodes', '-keyout', key, '-days', '1', '-subj', '/CN=cb.test',
    ...(digest ? [`-${digest}`] : []), '-outform', 'DER', '-out', der], { stdio: 'ignore' });
  return readFileSync(der);
}

function opensslDigest(dir: string, der: Buffer, digest: string): Buffer {
  const out = execFileSync('openssl', ['dgst', `-${digest}`, '-binary', join(dir, 'cert.der')]);
  expect(readFileSync(join(dir, 'cert.der'))).to.deep.equal(der);
  return out;
}

describe('tls-server-end-point channel bindings (RFC 5929)', function () {
  this.timeout(30_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'kn-cb-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const cases: Array<[string, string[], string | undefined, string]> = [
    ['RSA with SHA-256', ['-newkey', 'rsa:2048'], 'sha256', 'sha256'],
    ['RSA with SHA-384', ['-newkey', 'rsa:2048'], 'sha384', 'sha384'],
    ['RSA with SHA-1 (hashed with SHA-256)', ['-newkey', 'rsa:2048'], 'sha1', 'sha256'],
    ['ECDSA with SHA-512', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], 'sha512', 'sha512'],
    ['RSASSA-PSS with SHA-384', ['-newkey', 'rsa-pss', '-pkeyopt', 'rsa_keygen_bits:2048', '-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:32'], 'sha384', 'sha384'],
  ];
  for (const [name, keyArgs, digest, expected] of cases) {
    it(name, () => {
      const der = makeCert(dir, keyArgs, digest);
      const cb = tlsServerEndPoint(der);
      expect(cb.subarray(0, 21).toString('latin1')).to.equal('tls-server-end-point:');
      expect(cb.subarray(21)).to.deep.equal(opensslDigest(dir, der, expected));
    });
  }

  it('reports Ed25519 (no single hash) and garbage as CHANNEL_BINDINGS_UNAVAILABLE', () => {
    for (const der of [makeCert(dir, ['-newkey', 'ed25519']), Buffer.from([0x30, 0x03, 0x02, 0x01]), Buffer.alloc(0)]) {
      let caught: unknown;
      try {
        tlsServerEndPoint(der);
      } catch (err) {
        caught = err;
      }
      expect(caught).to.be.instanceOf(HttpNegotiateError);
      expect((caught as HttpNegotiateError).code).to.equal('CHANNEL_BINDINGS_UNAVAILABLE');
    }
  });
});
