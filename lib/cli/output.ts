// How the command line prints: one JSON object with --json, text otherwise; SSPI failures with their status.
import type { SecurityError } from '../vocabulary/status.js';

/** The exit codes of every command (lib/cli/main.ts HELP and docs/http.md list them). */
export const EXIT = {
  OK: 0,
  /** A SEC_E status, an HTTP Negotiate error, no (or an expired) credential, no GSS-API library. */
  SECURITY: 1,
  USAGE: 2,
  /** fetch: the server answered 400 or more. */
  HTTP_STATUS: 3,
  /** fetch: connection, DNS or TLS failure. */
  NETWORK: 4,
  /** decode: not a token the tool can parse. */
  UNPARSABLE: 5,
  /** A bug: an exception nothing above accounts for. */
  INTERNAL: 70,
} as const;

export function print(json: boolean, value: unknown, text: string): void {
  process.stdout.write(json ? `${JSON.stringify(value)}\n` : `${text}\n`);
}

export function failure(err: SecurityError, json: boolean): number {
  if (json) print(true, { status: err.statusName, code: err.code, message: err.message, gss: err.gss }, '');
  else process.stderr.write(`${err.message}\n`);
  return EXIT.SECURITY;
}
