// Calls that reach a KDC run on the libuv pool: the event loop keeps turning while a KDC takes its time.
import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { acquireCredentialsHandle, freeCredentialsHandle, initializeSecurityContext } from '../../lib/index.js';
import * as F from '../../lib/sspi/flags.js';
import { sharedKdc, type Kdc } from '../harness/kdc.js';

const HOLD_MS = 1500;

/** A "KDC" on loopback that accepts, says nothing for HOLD_MS, then hangs up. */
async function silentKdc(): Promise<{ server: Server; port: number; sockets: Socket[] }> {
  const sockets: Socket[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => undefined);
    setTimeout(() => socket.destroy(), HOLD_MS);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return { server, port: typeof address === 'object' && address ? address.port : 0, sockets };
}

describe('event loop', function () {
  this.timeout(60_000);
  let kdc: Kdc;
  let savedConfig: string | undefined;
  let slow: Awaited<ReturnType<typeof silentKdc>>;

  before(async () => {
    kdc = await sharedKdc();
    kdc.applyEnv();
    slow = await silentKdc();
    // MIT reads KRB5_CONFIG as a list of files: add a realm served by the silent KDC(the harness krb5.conf prefers TCP: udp_preference_limit = 1).
    const extra = join(kdc.dir, 'slow-realm.conf');
    writeFileSync(extra, `[realms]\n SLOW.TEST = {\n  kdc = 127.0.0.1:${slow.port}\n }\n`);
    savedConfig = process.env.KRB5_CONFIG;
    process.env.KRB5_CONFIG = `${kdc.krb5Config}:${extra}`;
  });
  after(() => {
    process.env.KRB5_CONFIG = savedConfig;
    slow.server.close();
  });

  it('stays responsive while a password logon waits on a KDC that does not answer', async () => {
    const delay = monitorEventLoopDelay({ resolution: 5 });
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 10);
    delay.enable();
    const started = Date.now();
    const cred = await acquireCredentialsHandle({ principal: 'alice@SLOW.TEST', password: 'irrelevant' });
    const r = await initializeSecurityContext({ credential: cred, targetName: `HTTP/${kdc.hostname}`, contextReq: F.ISC_REQ_MUTUAL_AUTH });
    const elapsed = Date.now() - started;
    delay.disable();
    clearInterval(ticker);
    freeCredentialsHandle(cred);
    expect(slow.sockets.length, 'the library did reach the silent KDC').to.be.greaterThan(0);
    expect(elapsed).to.be.greaterThan(HOLD_MS - 100);
    expect(r.statusName).to.be.oneOf(['SEC_E_NO_AUTHENTICATING_AUTHORITY', 'SEC_E_INTERNAL_ERROR']);
    // A blocked loop would show one delay of the whole hold; on the pool, the loop only sees its own work.
    expect(delay.max / 1e6, 'max event-loop delay in ms').to.be.lessThan(100);
    expect(ticks).to.be.greaterThan(HOLD_MS / 10 / 2);
  });
});
