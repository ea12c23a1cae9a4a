// How the command line prints: one JSON object with --json, text otherwise; SSPI failures with their status.
import type { SecurityError } from './sspi/status.js';

export function print(json: boolean, value: unknown, text: string): void {
  process.stdout.write(json ? `${JSON.stringify(value)}\n` : `${text}\n`);
}

export function failure(err: SecurityError, json: boolean): number {
  if (json) print(true, { status: err.statusName, code: err.code, message: err.message, gss: err.gss }, '');
  else process.stderr.write(`${err.message}\n`);
  return 1;
}
