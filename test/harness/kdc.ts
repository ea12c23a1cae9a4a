// A throwaway MIT KDC per test run: in Docker where an engine answers, natively (krb5kdc) otherwise, both from
// docker/provision.sh, in a temporary directory with its own krb5.conf, ports and credential caches. Never touches
// /etc/krb5.conf or the user's ccache. KN_KDC_MODE=docker|native|auto chooses.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freePort, tcpAnswers, waitFor } from './ports.js';

const run = promisify(execFile);
const DOCKER_DIR = fileURLToPath(new URL('../../docker/', import.meta.url));
const SBIN = '/usr/sbin';

export type KdcMode = 'docker' | 'native';

export interface TestPrincipal {
  /** Fully qualified, e.g. alice@KN.TEST. */
  name: string;
  password?: string;
  keytab?: string;
}

export interface Kdc {
  mode: KdcMode;
  realm: string;
  port: number;
  dir: string;
  krb5Config: string;
  /** The host of the HTTP service principal (HTTP/<hostname>). */
  hostname: string;
  /** Its DNS domain (kn.test): HTTP/deleg.<domain> and HTTP/other.<domain> exist too. */
  domain: string;
  /** A realm whose KDC never answers. */
  deadRealm: string;
  /** A realm that trusts ours, whose KDC address (127.0.0.1:slowPort, TCP) nothing serves unless a test does. */
  slowRealm: string;
  slowPort: number;
  principals: Record<'alice' | 'bob' | 'svcClient' | 'http' | 'deleg' | 'other', TestPrincipal>;
  /** KRB5_CONFIG, KRB5_KDC_PROFILE, KRB5CCNAME (a FILE: cache in dir), KRB5_KTNAME (http.keytab), KRB5RCACHEDIR. */
  env: Record<string, string>;
  /** Puts `env` into process.env (MIT reads it again for every new krb5 context). */
  applyEnv(): void;
  /** kinit; `lifetime` is kinit's -l (e.g. '5s'). */
  kinit(principal: string, opts: { password?: string; keytab?: string; ccache: string; lifetime?: string }): Promise<void>;
  /** Runs one kadmin.local query against the realm's database (in the container in Docker mode). */
  kadmin(query: string): Promise<void>;
  kdestroy(ccache: string): Promise<void>;
  /** Stops the KDC and keeps its database and port: for fault tests. */
  pause(): Promise<void>;
  /** Starts it again after pause(). */
  resume(): Promise<void>;
  /** Stops the KDC and removes the directory. */
  stop(): Promise<void>;
}

async function dockerAnswers(): Promise<boolean> {
  try {
    await run('docker', ['info', '--format', '{{.ServerVersion}}'], { timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}

/** The image tag carries a hash of its inputs, so a changed Dockerfile or script builds anew. */
async function ensureImage(): Promise<string> {
  const hash = createHash('sha256');
  for (const file of ['Dockerfile', 'provision.sh']) hash.update(readFileSync(join(DOCKER_DIR, file)));
  const tag = `kerberos-negotiate-kdc:${hash.digest('hex').slice(0, 12)}`;
  try {
    await run('docker', ['image', 'inspect', tag], { timeout: 10_000 });
  } catch {
    // Host networking: the engine here runs without a bridge, and apt inside the build needs the network.
    await run('docker', ['build', '-q', '--network', 'host', '-t', tag, DOCKER_DIR], { timeout: 300_000 });
  }
  return tag;
}

function readEnvFile(path: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

export async function startKdc(opts: { mode?: KdcMode | 'auto' } = {}): Promise<Kdc> {
  const wanted = opts.mode ?? (process.env.KN_KDC_MODE as KdcMode | 'auto' | undefined) ?? 'auto';
  if (!['docker', 'native', 'auto'].includes(wanted)) throw new Error(`KN_KDC_MODE must be docker, native or auto, not ${wanted}`);
  const mode: KdcMode = wanted === 'auto' ? ((await dockerAnswers()) ? 'docker' : 'native') : wanted;
  if (mode === 'native' && !existsSync(join(SBIN, 'krb5kdc'))) {
    throw new Error('no KDC: Docker does not answer and krb5kdc is not installed (apt-get install krb5-kdc krb5-admin-server)');
  }

  const dir = mkdtempSync(join(tmpdir(), 'kn-kdc-'));
  const port = await freePort();
  let deadPort = await freePort();
  while (deadPort === port) deadPort = await freePort();
  let slowPort = await freePort();
  while (slowPort === port || slowPort === deadPort) slowPort = await freePort();
  // Heimdal reaches a KDC over TCP only by the tcp/ prefix (MIT does not read it, and goes by udp_preference_limit).
  const heimdal = process.env.KERBEROS_NEGOTIATE_GSSAPI_LIBRARY?.includes('libgssapi.so.3') ?? false;
  const provisionEnv = {
    REALM: 'KN.TEST', KDC_PORT: String(port), DEAD_PORT: String(deadPort), SLOW_PORT: String(slowPort), SLOW_TRANSPORT: heimdal ? 'tcp/' : '',
    HOST: 'web.kn.test',
  };

  let child: ChildProcess | undefined;
  let container: string | undefined;
  let exited: string | undefined;
  let image: string | undefined;

  const startProcess = async () => {
    exited = undefined;
    if (mode === 'native') {
      child = spawn(join(SBIN, 'krb5kdc'), ['-n'], {
        env: { ...process.env, KRB5_CONFIG: join(dir, 'krb5.conf'), KRB5_KDC_PROFILE: join(dir, 'kdc.conf') },
        stdio: 'ignore',
      });
      child.once('exit', (code, signal) => (exited = `krb5kdc exited (${code ?? signal})`));
    } else {
      image ??= await ensureImage();
      const envArgs = Object.entries({ ...provisionEnv, OUT: '/out' }).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
      // The database exists after the first start: run krb5kdc directly then, keeping principals and keys.
      const entry = existsSync(join(dir, 'provisioned')) ? ['--entrypoint', join(SBIN, 'krb5kdc')] : [];
      const cmd = entry.length ? ['-n'] : [];
      const { stdout } = await run('docker', ['run', '-d', '--rm', '--network', 'host', '-v', `${dir}:/out`, ...envArgs,
        '-e', 'KRB5_KDC_PROFILE=/out/kdc.conf', '-e', 'KRB5_CONFIG=/out/krb5.conf', ...entry, image, ...cmd], { timeout: 30_000 });
      container = stdout.trim();
    }
    await waitFor(`the ${mode} KDC on port ${port}`, () => tcpAnswers(port), 20_000, () => exited);
  };

  const stopProcess = async () => {
    if (child && !exited) {
      const done = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGTERM');
      await done;
    }
    child = undefined;
    if (container) {
      await run('docker', ['rm', '-f', container], { timeout: 30_000 }).catch(() => undefined);
      container = undefined;
    }
  };

  try {
    if (mode === 'native') {
      await run('sh', [join(DOCKER_DIR, 'provision.sh')], { env: { ...process.env, ...provisionEnv, OUT: dir }, timeout: 60_000 });
    }
    await startProcess();
    await waitFor('provisioning', () => existsSync(join(dir, 'provisioned')), 20_000);
  } catch (err) {
    await stopProcess();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }

  const p = readEnvFile(join(dir, 'principals.env'));
  const env: Record<string, string> = {
    KRB5_CONFIG: join(dir, 'krb5.conf'),
    KRB5_KDC_PROFILE: join(dir, 'kdc.conf'),
    KRB5CCNAME: `FILE:${join(dir, 'ccache')}`,
    KRB5_KTNAME: `FILE:${join(dir, 'http.keytab')}`,
    KRB5RCACHEDIR: dir,
  };
  const toolEnv = () => ({ ...process.env, ...env });

  return {
    mode,
    realm: p.REALM,
    port,
    dir,
    krb5Config: env.KRB5_CONFIG,
    hostname: p.HOST,
    domain: p.HOST.slice(p.HOST.indexOf('.') + 1),
    deadRealm: 'DEAD.TEST',
    slowRealm: 'SLOW.TEST',
    slowPort,
    principals: {
      alice: { name: p.ALICE, password: p.ALICE_PASSWORD },
      bob: { name: p.BOB, password: p.BOB_PASSWORD },
      svcClient: { name: p.SVC_CLIENT, keytab: join(dir, 'client.keytab') },
      http: { name: p.HTTP, keytab: join(dir, 'http.keytab') },
      deleg: { name: p.DELEG, keytab: join(dir, 'deleg.keytab') },
      other: { name: p.OTHER, keytab: join(dir, 'other.keytab') },
    },
    env,
    applyEnv() {
      Object.assign(process.env, env);
    },
    async kinit(principal, opts) {
      const args = [...(opts.lifetime ? ['-l', opts.lifetime] : []), ...(opts.keytab ? ['-k', '-t', opts.keytab, principal] : [principal])];
      await new Promise<void>((resolve, reject) => {
        const kinit = spawn('kinit', args, { env: { ...toolEnv(), KRB5CCNAME: opts.ccache }, stdio: ['pipe', 'ignore', 'pipe'] });
        let err = '';
        kinit.stderr.on('data', (d) => (err += d));
        kinit.once('error', reject);
        kinit.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`kinit ${principal} failed: ${err.trim()}`))));
        // The password goes to kinit's stdin only: never into argv, a log or an error message. kinit may exit
        // before reading it (no KDC): that EPIPE is not our failure, the exit code is.
        kinit.stdin.on('error', () => undefined);
        kinit.stdin.end(opts.password !== undefined ? `${opts.password}\n` : '');
      });
    },
    async kadmin(query) {
      const args = ['-r', p.REALM, '-q', query];
      if (mode === 'docker' && container) {
        await run('docker', ['exec', '-e', 'KRB5_KDC_PROFILE=/out/kdc.conf', '-e', 'KRB5_CONFIG=/out/krb5.conf', container, join(SBIN, 'kadmin.local'), ...args], { timeout: 30_000 });
      } else {
        await run(join(SBIN, 'kadmin.local'), args, { env: toolEnv(), timeout: 30_000 });
      }
    },
    async kdestroy(ccache) {
      await run('kdestroy', ['-c', ccache], { env: toolEnv() }).catch(() => undefined);
    },
    pause: stopProcess,
    resume: startProcess,
    async stop() {
      await stopProcess();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

let shared: Promise<Kdc> | undefined;

/** One KDC for the whole mocha process, started on first use and stopped by the root hook (test/harness/hooks.ts). */
export function sharedKdc(): Promise<Kdc> {
  shared ??= startKdc();
  return shared;
}

/** The shared KDC, its environment applied, and alice's TGT in its default cache: what most tests start from. */
export async function kdcWithAlice(): Promise<Kdc> {
  const kdc = await sharedKdc();
  kdc.applyEnv();
  await kdc.kinit(kdc.principals.alice.name, { password: kdc.principals.alice.password, ccache: kdc.env.KRB5CCNAME });
  return kdc;
}

/** The shared KDC if a test started it, without starting one. */
export async function sharedKdcIfStarted(): Promise<Kdc | undefined> {
  return shared?.catch(() => undefined);
}

export async function stopSharedKdc(): Promise<void> {
  if (!shared) return;
  const kdc = await shared.catch(() => undefined);
  shared = undefined;
  await kdc?.stop();
}
