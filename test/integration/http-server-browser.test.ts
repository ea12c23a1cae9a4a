// A real browser as the client of the HTTP acceptor: Debian's Chromium, headless, driven by playwright-core with the
// system executable, a ticket cache in KRB5CCNAME and --auth-server-allowlist=localhost. The service is
// HTTP/localhost: Chromium builds the SPN from the host's canonical name (there is no command-line switch for
// DisableAuthNegotiateCnameLookup), so a name mapped by --host-resolver-rules would become HTTP@127.0.0.1.
//
// Found here (Chromium 156, net-log): the first Negotiate challenge a browser process meets fails at
// AUTH_HANDLER_CREATE_RESULT with ERR_UNSUPPORTED_AUTH_SCHEME (-339) before any GSS library load is logged; the
// next challenge loads libgssapi_krb5.so.2 and authenticates. So each browser loads the page twice: the first
// answer may be the 401 page, the second must be the principal.
import { expect } from 'chai';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { negotiate, type NegotiateErrorEvent, type NegotiateHandler, type NegotiateRequest } from '../../lib/index.js';
import { kdcWithAlice, type Kdc } from '../harness/kdc.js';
import { needs } from '../harness/skip.js';

const CHROMIUM = '/usr/bin/chromium';

type Browser = { newPage(): Promise<Page>; close(): Promise<void> };
type Page = { goto(url: string): Promise<{ status(): number } | null>; textContent(selector: string): Promise<string | null> };
type Playwright = { chromium: { launch(options: object): Promise<Browser> } };

async function loadPlaywright(): Promise<Playwright | undefined> {
  try {
    return (await import('playwright-core')) as unknown as Playwright;
  } catch {
    return undefined;
  }
}

describe('HTTP acceptor with headless Chromium as the client', function () {
  this.timeout(120_000);
  let kdc: Kdc;
  let playwright: Playwright | undefined;
  let server: Server;
  let auth: NegotiateHandler;
  let port: number;
  let dir: string;
  const errors: NegotiateErrorEvent[] = [];

  before(async function () {
    playwright = await loadPlaywright();
    needs(this, playwright !== undefined, 'playwright-core is not installed (npm ci installs test/peers)');
    needs(this, existsSync(CHROMIUM), 'chromium is not installed (apt-get install chromium)');
    kdc = await kdcWithAlice();
    dir = mkdtempSync(join(tmpdir(), 'kn-browser-'));
    // HTTP/localhost, in a keytab of its own (in Docker mode the KDC's /out is its directory).
    const keytab = join(kdc.dir, 'localhost.keytab');
    await kdc.kadmin('addprinc -randkey HTTP/localhost').catch(() => undefined);
    await kdc.kadmin(`ktadd -k ${kdc.mode === 'docker' ? '/out/localhost.keytab' : keytab} HTTP/localhost`);
    auth = negotiate({ keytab, onError: (e) => void errors.push(e) });
    server = createServer((req, res) => void auth(req, res, () => {
      const n = (req as NegotiateRequest).negotiate!;
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(`<!doctype html><title>whoami</title><p id="who">${n.principal}</p>`);
    }));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });

  after(async () => {
    server?.closeAllConnections();
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
    auth?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function browse(ccache: string): Promise<Array<{ status: number; text: string }>> {
    const browser = await playwright!.chromium.launch({
      executablePath: CHROMIUM,
      args: ['--auth-server-allowlist=localhost', '--no-sandbox', '--disable-gpu'],
      env: { ...process.env, KRB5_CONFIG: kdc.env.KRB5_CONFIG, KRB5CCNAME: ccache },
    });
    try {
      const page = await browser.newPage();
      const out: Array<{ status: number; text: string }> = [];
      for (let i = 0; i < 2; i++) {
        const r = await page.goto(`http://localhost:${port}/`);
        out.push({ status: r?.status() ?? 0, text: ((await page.textContent('body')) ?? '').trim() });
      }
      return out;
    } finally {
      await browser.close();
    }
  }

  it('loads the page as alice: the Node server shows the authenticated principal', async () => {
    const [, second] = await browse(kdc.env.KRB5CCNAME);
    expect(second, JSON.stringify(errors.slice(-2))).to.deep.equal({ status: 200, text: kdc.principals.alice.name });
  });

  it('is refused with the 401 page when the ticket cache is empty', async () => {
    const answers = await browse(`FILE:${join(dir, 'empty-ccache')}`);
    for (const a of answers) expect(a).to.deep.equal({ status: 401, text: 'Negotiate authentication is required.' });
  });
});
