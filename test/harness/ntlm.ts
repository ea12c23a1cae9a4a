// gss-ntlmssp as MIT's mechglue sees it: a file in /etc/gss/mech.d that names NTLMSSP's OID and a library that
// exists (test/integration/ntlm.test.ts, test/harness/capabilities.ts).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const NTLMSSP = '1.3.6.1.4.1.311.2.2.10';

/** Why NTLM cannot be tested, for needs() (test/harness/skip.ts). */
export const NTLM_MISSING = 'no gss-ntlmssp mechanism is registered in /etc/gss/mech.d with its library present (apt-get install gss-ntlmssp)';

export function ntlmInstalled(): boolean {
  const dir = '/etc/gss/mech.d';
  if (!existsSync(dir)) return false;
  return readdirSync(dir).some((f) => readFileSync(join(dir, f), 'utf8').split('\n').some((line) => {
    const [, oid, lib] = line.trim().split(/\s+/);
    return !line.trim().startsWith('#') && oid === NTLMSSP && lib !== undefined && existsSync(lib);
  }));
}
