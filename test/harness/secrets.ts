// The realm's passwords must never show in what a test run prints: checked on the suite's output (hooks.ts) and on
// the Windows node's output and report under Wine (scripts/test-wine.ts). Each in the forms a leak would take.
import type { Kdc } from './kdc.js';

/** Whether `output` holds one of the realm's passwords, as text, base64 or hex. */
export function showsPassword(kdc: Kdc, output: string): boolean {
  const secrets = [kdc.principals.alice.password, kdc.principals.bob.password].filter((p): p is string => !!p);
  return secrets.some((secret) => [secret, Buffer.from(secret).toString('base64'), Buffer.from(secret).toString('hex')].some((form) => output.includes(form)));
}
