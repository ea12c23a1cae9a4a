// The `undici` package used directly (not the copy inside Node): its current major (devDependency `undici`) where
// this Node meets that major's `engines`, else the newest major that loads here (devDependency `undici-7`, for
// Node 20: undici 8 needs >= 22.19 and fails at import on 20). Each run therefore tests the undici a user of this
// Node line would install.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

function meets(range: string): boolean {
  const m = /^>=\s*(\d+)\.(\d+)\.(\d+)$/.exec(range.trim());
  if (!m) throw new Error(`undici's engines field "${range}" is not of the form >=X.Y.Z: update test/harness/undici.ts`);
  const want = m.slice(1).map(Number);
  const have = process.versions.node.split('.').map(Number);
  for (let i = 0; i < 3; i++) if (have[i] !== want[i]) return have[i] > want[i];
  return true;
}

const current = require('undici/package.json') as { version: string; engines: { node: string } };
export const undiciPackage = meets(current.engines.node) ? 'undici' : 'undici-7';
export const undiciVersion = (require(`${undiciPackage}/package.json`) as { version: string }).version;

export async function loadUndici(): Promise<typeof import('undici')> {
  return (await import(undiciPackage)) as typeof import('undici');
}
