// KDC and account faults against the real KDC of the harness: each gives the SEC_E code docs/status-mapping.md
// promises, with the krb5 minor code, and the library recovers without anything re-created by hand.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  acquireCredentialsHandle, deleteSecurityContext, freeCredentialsHandle, initializeSecurityContext, type InitializeResult,
} from '../../lib/index.js';
import * as F from '../../lib/vocabulary/flags.js';
import { PYTHON_GSSAPI_MISSING, PythonAcceptor } from '../harness/python-acceptor.js';
import { minorTextMatches } from '../harness/flavour.js';
import { newAcceptor } from '../harness/acceptor.js';
import { KERBEROS_ADDON, realmSuite } from '../harness/realm-suite.js';
import { needs } from '../harness/skip.js';

const exec = promisify(execFile);

const REQ = F.ISC_REQ_MUTUAL_AUTH | F.ISC_REQ_INTEGRITY;
const MINOR = {
  KDC_UNREACH: -1765328228,
  CLIENT_REVOKED: -1765328366,
  KEY_EXP: -1765328361,
  TKT_EXPIRED: -1765328352,
};

describe('KDC and account faults', function () {
  this.timeout(120_000);
  const realm = realmSuite({ needs: [KERBEROS_ADDON], logon: 'none' });

  async function logon(principal: string, password: string, target = `HTTP/${realm.kdc.hostname}`): Promise<InitializeResult> {
    const cred = await acquireCredentialsHandle({ principal, password });
    const r = await initializeSecurityContext({ credential: cred, targetName: target, contextReq: REQ });
    if (r.context) deleteSecurityContext(r.context);
    freeCredentialsHandle(cred);
    return r;
  }

  it('KDC stopped: SEC_E_NO_AUTHENTICATING_AUTHORITY quickly; restarted: the same handles work again', async () => {
    const bob = realm.kdc.principals.bob;
    const ccache = `FILE:${join(realm.kdc.dir, 'faults-bob')}`;
    await realm.kdc.kinit(bob.name, { password: bob.password, ccache });
    const cached = await acquireCredentialsHandle({ ccache });
    await realm.kdc.pause();
    try {
      const started = Date.now();
      const down = await logon(bob.name, bob.password!);
      expect(down.statusName).to.equal('SEC_E_NO_AUTHENTICATING_AUTHORITY');
      expect(down.gss!.minor).to.equal(MINOR.KDC_UNREACH);
      // A service ticket is needed and the KDC is gone: the cached TGT alone cannot help.
      const noTicket = await initializeSecurityContext({ credential: cached, targetName: `HTTP/other.${realm.kdc.domain}`, contextReq: REQ });
      expect(noTicket.statusName).to.equal('SEC_E_NO_AUTHENTICATING_AUTHORITY');
      expect(Date.now() - started, 'refused connections fail fast').to.be.lessThan(15_000);
    } finally {
      await realm.kdc.resume();
    }
    const again = await initializeSecurityContext({ credential: cached, targetName: `HTTP/other.${realm.kdc.domain}`, contextReq: REQ });
    expect(again.statusName, again.error?.message).to.equal('SEC_I_CONTINUE_NEEDED');
    deleteSecurityContext(again.context!);
    freeCredentialsHandle(cached);
    expect((await logon(bob.name, bob.password!)).statusName).to.equal('SEC_I_CONTINUE_NEEDED');
  });

  it('a disabled (revoked) principal: SEC_E_LOGON_DENIED with KDC_ERR_CLIENT_REVOKED', async () => {
    const bob = realm.kdc.principals.bob;
    await realm.kdc.kadmin(`modprinc -allow_tix ${bob.name}`);
    try {
      const r = await logon(bob.name, bob.password!);
      expect(r.statusName).to.equal('SEC_E_LOGON_DENIED');
      expect(r.gss!.minor).to.equal(MINOR.CLIENT_REVOKED);
    } finally {
      await realm.kdc.kadmin(`modprinc +allow_tix ${bob.name}`);
    }
    expect((await logon(bob.name, bob.password!)).statusName).to.equal('SEC_I_CONTINUE_NEEDED');
  });

  it('failover: with the realm\'s first KDC down, authentication goes on through the second', async () => {
    // A krb5.conf naming two KDCs for the realm, the first where nothing listens (stopped). It is read by a fresh
    // process (the command line), as a service would at start: Heimdal reads its configuration once per thread.
    const alice = realm.kdc.principals.alice;
    const ccache = `FILE:${join(realm.kdc.dir, 'faults-failover')}`;
    await realm.kdc.kinit(alice.name, { password: alice.password, ccache });
    const conf = readFileSync(realm.kdc.krb5Config, 'utf8');
    const deadPort = /DEAD\.TEST = \{\s*kdc = 127\.0\.0\.1:(\d+)/.exec(conf)![1];
    const live = `kdc = 127.0.0.1:${realm.kdc.port}`;
    expect(conf).to.contain(live);
    const failover = join(realm.kdc.dir, 'failover.conf');
    writeFileSync(failover, conf.replace(live, `kdc = 127.0.0.1:${deadPort}\n  ${live}`));
    // The first KDC is broken: over TCP (MIT) it hangs up at once, over UDP (Heimdal) it never answers. Counted,
    // so the test shows it was tried before the second.
    let tried = 0;
    const broken = createServer((socket) => {
      tried++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => broken.listen(Number(deadPort), '127.0.0.1', resolve));
    const silent = createSocket('udp4', () => tried++);
    await new Promise<void>((resolve) => silent.bind(Number(deadPort), '127.0.0.1', resolve));
    const started = Date.now();
    const { stdout } = await exec(process.execPath, ['--import', 'tsx', 'lib/cli/main.ts', 'token', `HTTP/${realm.kdc.hostname}`, '--json'], {
      env: { ...process.env, ...realm.kdc.env, KRB5_CONFIG: failover, KRB5CCNAME: ccache },
    }).finally(() => {
      broken.close();
      silent.close();
    });
    expect(tried, 'the first KDC was tried').to.be.greaterThan(0);
    const out = JSON.parse(stdout) as { status: string; token: string };
    expect(out.status).to.equal('SEC_I_CONTINUE_NEEDED');
    expect(Date.now() - started, 'a refused KDC is passed over at once').to.be.lessThan(15_000);
    // The service ticket came from the second KDC: the token is a real one for the service.
    const acceptor = await newAcceptor();
    await acceptor.step(Buffer.from(out.token, 'base64'));
    expect(acceptor.username).to.equal(alice.name);
  });

  it('an expired password: SEC_E_LOGON_DENIED with KDC_ERR_KEY_EXP', async () => {
    const bob = realm.kdc.principals.bob;
    await realm.kdc.kadmin(`modprinc -pwexpire "1 second ago" ${bob.name}`);
    try {
      const r = await logon(bob.name, bob.password!);
      expect(r.statusName).to.equal('SEC_E_LOGON_DENIED');
      expect(r.gss!.minor).to.equal(MINOR.KEY_EXP);
      expect(minorTextMatches(r.gss, /expired/i, 'KRB5KDC_ERR_KEY_EXP'), r.gss!.minorText).to.equal(true);
    } finally {
      await realm.kdc.kadmin(`modprinc -pwexpire never ${bob.name}`);
    }
  });

  it('an expired ticket: SEC_E_CONTEXT_EXPIRED with KRB5KRB_AP_ERR_TKT_EXPIRED', async () => {
    const alice = realm.kdc.principals.alice;
    const ccache = `FILE:${join(realm.kdc.dir, 'faults-short')}`;
    await realm.kdc.kinit(alice.name, { password: alice.password, ccache, lifetime: '2s' });
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const cred = await acquireCredentialsHandle({ ccache });
    const r = await initializeSecurityContext({ credential: cred, targetName: `HTTP/${realm.kdc.hostname}`, contextReq: REQ });
    expect(r.statusName, JSON.stringify(r.gss)).to.equal('SEC_E_CONTEXT_EXPIRED');
    expect(r.gss!.minor).to.equal(MINOR.TKT_EXPIRED);
    freeCredentialsHandle(cred);
  });

  it('a service key changed after the ticket was issued: the acceptor\'s KRB-ERROR reaches the caller as a SEC_E code', async function () {
    // python3-gssapi (installed by .ci/run) is the acceptor whose error token carries the reason.
    needs(this, PythonAcceptor.available(), PYTHON_GSSAPI_MISSING);
    const alice = realm.kdc.principals.alice;
    const ccache = `FILE:${join(realm.kdc.dir, 'faults-rekey')}`;
    await realm.kdc.kinit(alice.name, { password: alice.password, ccache });
    const cred = await acquireCredentialsHandle({ ccache });
    const host = `rekey.${realm.kdc.domain}`;
    const keytab = join(realm.kdc.dir, 'rekey.keytab');
    await realm.kdc.kadmin(`addprinc -randkey HTTP/${host}`);
    const first = await initializeSecurityContext({ credential: cred, targetName: `HTTP/${host}`, contextReq: REQ });
    deleteSecurityContext(first.context!);
    // The ticket for HTTP/rekey is now cached; the service gets a new key, and its keytab only the new one.
    await realm.kdc.kadmin(`cpw -randkey HTTP/${host}`);
    await realm.kdc.kadmin(`ktadd -k ${realm.kdc.mode === 'docker' ? '/out/rekey.keytab' : keytab} HTTP/${host}`);
    const peer = new PythonAcceptor({ ...realm.kdc.env, KRB5_KTNAME: `FILE:${keytab}` });
    try {
      await peer.start(`HTTP@${host}`);
      const second = await initializeSecurityContext({ credential: cred, targetName: `HTTP/${host}`, contextReq: REQ });
      const s = await peer.step(second.output[0].buffer);
      expect(s.error, 'the acceptor cannot read the old ticket').to.be.a('string');
      expect(s.token.length, 'and says why in a KRB-ERROR').to.be.greaterThan(0);
      const r = await initializeSecurityContext({ context: second.context, contextReq: REQ, input: [{ type: F.SECBUFFER_TOKEN, buffer: s.token }] });
      expect(r.statusName, JSON.stringify(r.gss)).to.equal('SEC_E_NO_KERB_KEY');
      expect(r.gss!.minor).to.not.equal(0);
      deleteSecurityContext(second.context!);
    } finally {
      peer.close();
      freeCredentialsHandle(cred);
    }
  });
});
