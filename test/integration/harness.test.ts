// The harness itself: a real KDC answers on the port it was given, issues tickets for the provisioned principals,
// and leaves nothing behind.
import { expect } from 'chai';
import { existsSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { sharedKdc, startKdc, type Kdc } from '../harness/kdc.js';

const answers = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

describe('test harness: the KDC', function () {
  this.timeout(120_000);
  let kdc: Kdc;

  before(async () => {
    kdc = await sharedKdc();
  });

  it(`runs in the mode asked for (KN_KDC_MODE=${process.env.KN_KDC_MODE ?? 'auto'}) on its own port`, async () => {
    if (process.env.KN_KDC_MODE === 'docker' || process.env.KN_KDC_MODE === 'native') expect(kdc.mode).to.equal(process.env.KN_KDC_MODE);
    expect(await answers(kdc.port)).to.equal(true);
    expect(kdc.krb5Config.startsWith(kdc.dir)).to.equal(true);
    expect(kdc.env.KRB5CCNAME).to.contain(kdc.dir);
  });

  it('issues a TGT for a password and for a client keytab; refuses a wrong password', async () => {
    const ccache = `FILE:${join(kdc.dir, 'harness-cc')}`;
    await kdc.kinit(kdc.principals.alice.name, { password: kdc.principals.alice.password, ccache });
    expect(statSync(ccache.slice(5)).size).to.be.greaterThan(100);
    await kdc.kdestroy(ccache);
    await kdc.kinit(kdc.principals.svcClient.name, { keytab: kdc.principals.svcClient.keytab, ccache });
    await kdc.kdestroy(ccache);
    let failure: Error | undefined;
    try {
      await kdc.kinit(kdc.principals.alice.name, { password: 'wrong', ccache });
    } catch (err) {
      failure = err as Error;
    }
    expect(failure?.message).to.match(/kinit .* failed/);
    expect(failure?.message).to.not.contain(kdc.principals.alice.password!);
  });

  it('generates passwords per run and keeps them out of world-readable files', () => {
    expect(kdc.principals.alice.password).to.match(/^[0-9a-f]{48}$/);
    expect(kdc.principals.alice.password).to.not.equal(kdc.principals.bob.password);
    expect(statSync(join(kdc.dir, 'principals.env')).mode & 0o077).to.equal(0);
    for (const p of ['http', 'deleg', 'other', 'svcClient'] as const) expect(existsSync(kdc.principals[p].keytab!)).to.equal(true);
  });

  it('fails fast for the realm without a KDC', async () => {
    const started = Date.now();
    let failure: Error | undefined;
    try {
      await kdc.kinit(`alice@${kdc.deadRealm}`, { password: 'x', ccache: `FILE:${join(kdc.dir, 'dead-cc')}` });
    } catch (err) {
      failure = err as Error;
    }
    expect(failure?.message).to.match(/Cannot contact any KDC/);
    expect(Date.now() - started).to.be.lessThan(20_000);
  });

  it('a second KDC starts beside the first, survives a pause, and leaves nothing behind', async () => {
    const second = await startKdc({ mode: kdc.mode });
    expect(second.port).to.not.equal(kdc.port);
    await second.pause();
    expect(await answers(second.port)).to.equal(false);
    await second.resume();
    expect(await answers(second.port)).to.equal(true);
    const ccache = `FILE:${join(second.dir, 'cc')}`;
    await second.kinit(second.principals.bob.name, { password: second.principals.bob.password, ccache });
    await second.stop();
    expect(existsSync(second.dir)).to.equal(false);
    expect(await answers(second.port)).to.equal(false);
  });
});
