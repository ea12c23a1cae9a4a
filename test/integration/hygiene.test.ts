// Secrets stay secret: passwords never reach an error, an exception's properties or util.inspect output. (The root
// hook in test/harness/hooks.ts also checks the whole suite's output for the realm's passwords.)
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { inspect, promisify } from 'node:util';
import { acquireCredentialsHandle, freeCredentialsHandle, initializeSecurityContext } from '../../lib/index.js';
import { realmSuite } from '../harness/realm-suite.js';

const exec = promisify(execFile);

describe('secret hygiene and misuse', function () {
  this.timeout(60_000);
  const realm = realmSuite({ logon: 'none' });

  it('a failed password logon names the principal and the cause, never the password', async () => {
    const wrong = `Wrong-${'p4ss'.repeat(4)}`;
    const cred = await acquireCredentialsHandle({ principal: realm.kdc.principals.bob.name, password: wrong });
    const r = await initializeSecurityContext({ credential: cred, targetName: `HTTP/${realm.kdc.hostname}`, contextReq: 2 });
    expect(r.statusName).to.equal('SEC_E_LOGON_DENIED');
    const everything = [r.error!.message, r.error!.stack, inspect(r, { depth: 10 }), JSON.stringify(r.gss), inspect(cred), JSON.stringify(cred)].join('\n');
    expect(everything).to.not.contain(wrong);
    expect(everything).to.not.contain(Buffer.from(wrong).toString('base64'));
    freeCredentialsHandle(cred);
  });

  it('a good password logon leaves no trace of the password in the handle', async () => {
    const bob = realm.kdc.principals.bob;
    const mine = Buffer.from(bob.password!);
    const cred = await acquireCredentialsHandle({ principal: bob.name, password: mine });
    expect(inspect(cred, { depth: 10, showHidden: true })).to.not.contain(bob.password);
    expect(mine.toString(), 'the caller\'s own Buffer is left alone').to.equal(bob.password);
    freeCredentialsHandle(cred);
  });

  it('gssapiLibrary(path) chooses the library before first use, and refuses to switch later', async () => {
    const script = `
      import { gssapiLibrary } from './lib/index.ts';
      const first = gssapiLibrary('libgssapi_krb5.so.2');
      let switched = 'allowed';
      try { gssapiLibrary('libgssapi.so.3'); } catch (e) { switched = /already loaded/.test(e.message) ? 'refused' : String(e); }
      console.log(JSON.stringify({ first, same: gssapiLibrary('libgssapi_krb5.so.2'), switched }));`;
    const { stdout } = await exec(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script]);
    const flavour = { path: 'libgssapi_krb5.so.2', flavour: 'mit' };
    expect(JSON.parse(stdout)).to.deep.equal({ first: flavour, same: flavour, switched: 'refused' });
  });

  it('when no GSS-API library loads, calls give SEC_E_SECPKG_NOT_FOUND, never a crash', async () => {
    const script = `
      import { acquireCredentialsHandle, enumerateSecurityPackages, SecurityError } from './lib/index.ts';
      const out = { enumerate: enumerateSecurityPackages().statusName };
      try { await acquireCredentialsHandle(); out.acquire = 'no error'; }
      catch (e) { out.acquire = e instanceof SecurityError ? e.statusName : String(e); out.mentions = /no-such-gssapi/.test(e.message); }
      console.log(JSON.stringify(out));`;
    const { stdout } = await exec(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      env: { ...process.env, KERBEROS_NEGOTIATE_GSSAPI_LIBRARY: '/nonexistent/libno-such-gssapi.so' },
    });
    expect(JSON.parse(stdout)).to.deep.equal({ enumerate: 'SEC_E_SECPKG_NOT_FOUND', acquire: 'SEC_E_SECPKG_NOT_FOUND', mentions: true });
  });
});
