#!/usr/bin/env node
// The command line: `kerberos-negotiate <command>`. Exit codes are EXIT below (documented in HELP and
// docs/http.md). `--json` prints one JSON object on stdout.
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import {
  HttpNegotiateError, ISC_REQ_CONFIDENTIALITY, ISC_REQ_INTEGRITY, ISC_REQ_MUTUAL_AUTH, SecurityError, acquireCredentialsHandle,
  deleteSecurityContext, freeCredentialsHandle, initializeSecurityContext, iscRetNames,
} from '../index.js';
import { describeToken } from '../protocol/describe.js';
import { credentialsCommand, fetchCommand, httpFailure, loadedLibrary, UsageError } from './http.js';
import { EXIT, failure, print } from './output.js';
import { serveCommand } from './serve.js';

const HELP = `Usage: kerberos-negotiate <command> [options]

Commands:
  token <SPN>        Print a base64 Negotiate token for the service (like kvno + a token), e.g. HTTP/web.example.com
  decode <base64>    Print the structure of a SPNEGO or Kerberos token (mechanisms, negState, inner message type);
                     reads standard input when the token is "-". Prints sizes, never key material.
  fetch <URL>        Request the URL with Negotiate authentication (like curl --negotiate): the body goes to standard
                     output; the status, our principal, and whether mutual authentication and channel bindings held
                     go to standard error (or all of it as one object with --json)
  credentials        Diagnose the credentials: which ccache, which principal, when the ticket expires, which GSS-API
                     library is loaded
  library            Which GSS-API library is loaded (path and flavour)
  serve              A "whoami" HTTP server for diagnosing a client or a keytab: it requires Negotiate, answers
                     with the client's principal, and prints each attempt's outcome with its SEC_E status (runs
                     until interrupted)

Options:
  --package <name>   Negotiate (default) or Kerberos (token)
  --principal <p>    Client principal to use from the credential cache (token, fetch, credentials)
  --json             Machine-readable output
  -h, --help         This help
fetch options:
  -X, --method <m>   HTTP method (default GET)
  -d, --data <text>  Request body (sent again after the challenge)
  -H, --header <h>   "Name: value", repeatable
  --spn <spn>        Explicit SPN instead of HTTP/<host>
  --mutual <policy>  required (default), optional or none
  --no-channel-bindings
                     Do not bind to the TLS certificate (on by default for https)
  --delegate <p>     none (default), policy (ok-as-delegate targets) or always
  --proxy <url>      An http:// proxy (answers 407 Proxy-Authenticate: Negotiate)
  --cacert <file>    Trust this CA (PEM) for https
  --resolve <h:p:a>  Connect to address a for host h (as curl; the port is ignored)
  --preemptive       Send the token with the first request
serve options:
  --keytab <file>    The service's keytab (required)
  --principal <p>    One service principal of the keytab (default: any of them)
  --port <n>         Port to listen on (default 8080; 0 picks a free one)
  --host <address>   Address to listen on (default 127.0.0.1)
  --tls-cert <file>, --tls-key <file>
                     Serve https with this certificate and key (PEM)
  --channel-bindings <mode>
                     when-supported (default), required or never (https: the certificate's tls-server-end-point)
  --delegation       Accept a delegated credential (reported, then freed)

Exit codes (every command):
  0  success
  1  a security failure, with its SEC_E status or HTTP Negotiate error code printed: no or expired credentials,
     unknown SPN, KDC unreachable, no GSS-API library (SEC_E_SECPKG_NOT_FOUND); fetch: the server refused the
     authentication or did not prove its identity; serve: the keytab cannot serve (SEC_E_NO_CREDENTIALS)
  2  wrong usage: unknown command or option, a missing argument, decode input that is not base64, an unreadable
     --cacert file; serve: no --keytab, an unreadable --tls-cert or --tls-key
  3  fetch: the server answered with an HTTP status of 400 or more (after any authentication)
  4  fetch: the connection failed (refused, DNS, TLS handshake or certificate, reset); serve: the port cannot be
     listened on (EADDRINUSE, EACCES); the error code is printed
  5  decode: base64, but not a token the tool can parse (the description, with its error, is printed)
  70 an internal error (a bug: please report it with the message)`;


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
    return EXIT.OK;
  } finally {
    freeCredentialsHandle(credential);
  }
}


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
        method: { type: 'string', short: 'X', default: 'GET' },
        data: { type: 'string', short: 'd' },
        header: { type: 'string', short: 'H', multiple: true, default: [] },
        spn: { type: 'string' },
        mutual: { type: 'string', default: 'required' },
        'no-channel-bindings': { type: 'boolean', default: false },
        delegate: { type: 'string', default: 'none' },
        proxy: { type: 'string' },
        cacert: { type: 'string' },
        resolve: { type: 'string', multiple: true, default: [] },
        preemptive: { type: 'boolean', default: false },
        keytab: { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        'channel-bindings': { type: 'string' },
        delegation: { type: 'boolean', default: false },
      },
    });
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${HELP}\n`);
    return EXIT.USAGE;
  }
  const { values, positionals } = parsed;
  const [command, arg] = positionals;
  if (values.help || !command) {
    process.stdout.write(`${HELP}\n`);
    return values.help ? EXIT.OK : EXIT.USAGE;
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
        // A token that could not be parsed, whole or in its mechanism part, is a failure, not a description.
        const unparsed = description.error !== undefined || (description.mechToken as { error?: string } | undefined)?.error !== undefined;
        return unparsed ? EXIT.UNPARSABLE : EXIT.OK;
      }
      case 'fetch':
        if (!arg) throw new UsageError('fetch needs a URL');
        return await fetchCommand(arg, values, values.json!);
      case 'credentials':
        return await credentialsCommand(values.principal, values.json!);
      case 'serve':
        return await serveCommand(values, values.json!);
      case 'library': {
        const info = loadedLibrary();
        print(values.json!, info, `${info.flavour} ${info.path}`);
        return EXIT.OK;
      }
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message}\n\n${HELP}\n`);
      return EXIT.USAGE;
    }
    if (err instanceof SecurityError) return failure(err, values.json!);
    if (err instanceof HttpNegotiateError) return httpFailure(err, values.json!);
    // The network (connection refused, DNS, TLS): a failure to report, not a crash.
    const code = (err as { code?: unknown }).code;
    if (command === 'fetch' && typeof code === 'string' && !(err instanceof TypeError)) {
      if (values.json) print(true, { error: code, message: (err as Error).message }, '');
      else process.stderr.write(`${code}: ${(err as Error).message}\n`);
      return EXIT.NETWORK;
    }
    throw err;
  }
}

// Run when executed, also through npm's bin symlink (not when imported by the tests).
if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (err: Error) => {
      process.stderr.write(`internal error: ${err?.stack ?? String(err)}\n`);
      process.exitCode = EXIT.INTERNAL;
    },
  );
}
