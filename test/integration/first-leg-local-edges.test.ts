// The first leg from memory (lib/providers/gssapi-tickets.ts) against caches that are not what a stat suggests: a
// FIFO or a directory named as the FILE cache, and a FILE cache rewritten for someone else without its stat changing.
import { expect } from 'chai';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  acquireCredentialsHandle, deleteSecurityContext, freeCredentialsHandle, initializeSecurityContext, type CredentialsHandle,
} from '../../lib/index.js';
import { localFirstLegs } from '../../lib/providers/gssapi-tickets.js';
import * as F from '../../lib/vocabulary/flags.js';
import { newAcceptor } from '../harness/acceptor.js';
import { isHeimdal } from '../harness/flavour.js';
import { KERBEROS_ADDON, realmSuite } from '../harness/realm-suite.js';

const REQ = F.ISC_REQ_MUTUAL_AUTH | F.ISC_REQ_INTEGRITY;

describe('first leg from memory: caches that are not what their stat says', function () {
  this.timeout(60_000);
  const realm = realmSuite({ needs: [KERBEROS_ADDON] });

  async function who(cred: CredentialsHandle): Promise<string | undefined> {
    const r = await initializeSecurityContext({ credential: cred, targetName: realm.spn, contextReq: REQ });
    if (r.statusName !== 'SEC_I_CONTINUE_NEEDED') return r.statusName;
    const acceptor = await newAcceptor();
    const reply = await acceptor.step(r.output[0].buffer);
    const done = await initializeSecurityContext({ context: r.context, contextReq: REQ, input: [{ type: F.SECBUFFER_TOKEN, buffer: reply }] });
    deleteSecurityContext(r.context!);
    return done.statusName === 'SEC_E_OK' ? acceptor.username : done.statusName;
  }

  it('KRB5CCNAME naming a FIFO: the first leg does not open it on the loop (an open with no writer blocks), it goes to the pool', async () => {
    const fifo = join(realm.kdc.dir, `local-fifo-${process.pid}`);
    rmSync(fifo, { force: true });
    execFileSync('mkfifo', [fifo]);
    // Whoever ends up opening the FIFO for reading is let go after 3 s, again and again (a writer that opens and closes
    // at once: the reader reads an empty "cache"), so that a blocked thread, the loop on the old code, comes back.
    const releaser = spawn(process.execPath, ['-e', `
      const fs = require('fs');
      setTimeout(() => setInterval(() => { try { fs.closeSync(fs.openSync(${JSON.stringify(fifo)}, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK)); } catch {} }, 5), 3000);
      setTimeout(() => process.exit(0), 30000);`], { stdio: 'ignore' });
    const saved = process.env.KRB5CCNAME;
    const cred = await acquireCredentialsHandle();
    try {
      process.env.KRB5CCNAME = `FILE:${fifo}`;
      const before = localFirstLegs();
      const t = performance.now();
      const pending = initializeSecurityContext({ credential: cred, targetName: realm.spn, contextReq: REQ });
      const sync = performance.now() - t;
      let ticks = 0;
      const timer = setInterval(() => ticks++, 10);
      const r = await pending;
      clearInterval(timer);
      if (r.context) deleteSecurityContext(r.context);
      expect(sync, 'the call\'s synchronous part, ms').to.be.lessThan(1000);
      expect(r.statusName).to.not.equal('SEC_E_OK');
      expect(localFirstLegs().tried - before.tried, 'not tried on the loop').to.equal(0);
      if (!isHeimdal()) expect(ticks, 'the loop ran while the pool waited on the FIFO').to.be.greaterThan(50);
    } finally {
      process.env.KRB5CCNAME = saved;
      freeCredentialsHandle(cred);
      releaser.kill();
      rmSync(fifo, { force: true });
    }
  });

  it('KRB5CCNAME naming a directory: the leg goes to the pool and fails cleanly', async () => {
    const dir = join(realm.kdc.dir, `local-dir-${process.pid}`);
    mkdirSync(dir, { recursive: true });
    const saved = process.env.KRB5CCNAME;
    const cred = await acquireCredentialsHandle();
    try {
      process.env.KRB5CCNAME = `FILE:${dir}`;
      const before = localFirstLegs();
      const r = await initializeSecurityContext({ credential: cred, targetName: realm.spn, contextReq: REQ });
      if (r.context) deleteSecurityContext(r.context);
      expect(r.statusName).to.not.equal('SEC_E_OK');
      expect(localFirstLegs().tried - before.tried).to.equal(0);
    } finally {
      process.env.KRB5CCNAME = saved;
      freeCredentialsHandle(cred);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
