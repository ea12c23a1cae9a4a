#!/usr/bin/env node
// The command line: `kerberos-negotiate <command>`. Exit codes: 0 success, 1 an SSPI failure (the status is
// printed), 2 a usage error. `--json` prints one JSON object on stdout.
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import {
  ISC_REQ_CONFIDENTIALITY, ISC_REQ_INTEGRITY, ISC_REQ_MUTUAL_AUTH, SecurityError, acquireCredentialsHandle,
  deleteSecurityContext, freeCredentialsHandle, gssapiLibrary, initializeSecurityContext, iscRetNames,
} from './index.js';
import { describeToken } from './spnego/describe.js';

const HELP = `Usage: kerberos-negotiate <command> [options]

Commands:
  token <SPN>        Print a base64 Negotiate token for the service (like kvno + a token), e.g. HTTP/web.example.com
  decode <base64>    Print the structure of a SPNEGO or Kerberos token (mechanisms, negState, inner message type);
                     reads standard input when the token is "-". Prints sizes, never key material.
  library            Which GSS-API library is loaded (path and flavour)

Options:
  --package <name>   Negotiate (default) or Kerberos (token)
  --principal <p>    Client principal to use from the credential cache (token)
  --json             Machine-readable output
  -h, --help         This help

Exit codes: 0 success; 1 an authentication failure (the SEC_E status is printed); 2 wrong usage.`;

function print(json: boolean, value: unknown, text: string): void {
  process.stdout.write(json ? `${JSON.stringify(value)}\n` : `${text}\n`);
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function token(spn: string, pkg: string, principal: string | undefined, json: boolean): Promise<number> {
  if (pkg !== 'Negotiate' && pkg !== 'Kerberos') throw new UsageError('--package must be Negotiate or Kerberos');
  const credential = await acquireCredentialsHandle({ package: pkg, principal });
  try {
    const r = await initializeSecurityContext({
      credential, targetName: spn, contextReq: ISC_REQ_MUTUAL_AUTH | ISC_REQ_CONFIDENTIALITY | ISC_REQ_INTEGRITY,
    });
    if (r.context) deleteSecurityContext(r.context);
    if (r.error) return failure(r.error, json);
    const b64 = Buffer.from(r.output[0].buffer).toString('base64');
    print(json, { status: r.statusName, token: b64, contextAttr: iscRetNames(r.contextAttr), expiry: r.expiry }, b64);
    return 0;
  } finally {
    freeCredentialsHandle(credential);
  }
}

function failure(err: SecurityError, json: boolean): number {
  if (json) print(true, { status: err.statusName, code: err.code, message: err.message, gss: err.gss }, '');
  else process.stderr.write(`${err.message}\n`);
  return 1;
}

class UsageError extends Error {}

export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
        package: { type: 'string', default: 'Negotiate' },
        principal: { type: 'string' },
      },
    });
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${HELP}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [command, arg] = positionals;
  if (values.help || !command) {
    process.stdout.write(`${HELP}\n`);
    return values.help ? 0 : 2;
  }
  try {
    switch (command) {
      case 'token':
        if (!arg) throw new UsageError('token needs an SPN');
        return await token(arg, values.package!, values.principal, values.json!);
      case 'decode': {
        if (!arg) throw new UsageError('decode needs a base64 token (or - for standard input)');
        const text = (arg === '-' ? await readStdin() : arg).replace(/^\s*(Negotiate|Kerberos)\s+/i, '').trim();
        if (!/^[A-Za-z0-9+/=_-]+$/.test(text)) throw new UsageError('decode: the token is not base64');
        const description = describeToken(Buffer.from(text, 'base64'));
        print(values.json!, description, JSON.stringify(description, null, 2));
        return 0;
      }
      case 'library': {
        const info = gssapiLibrary();
        print(values.json!, info, `${info.flavour} ${info.path}`);
        return 0;
      }
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message}\n\n${HELP}\n`);
      return 2;
    }
    if (err instanceof SecurityError) return failure(err, values.json!);
    throw err;
  }
}

// Run when executed, also through npm's bin symlink (not when imported by the tests).
if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  main(process.argv.slice(2)).then((code) => (process.exitCode = code));
}
