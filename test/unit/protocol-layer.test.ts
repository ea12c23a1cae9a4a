// lib/protocol is the protocol layer: it may import only itself, so the state machines run (and are tested) without a
// GSS library, and an SSPI or acceptor provider can reuse them (docs/spnego.md, "SPNEGO layer").
import { expect } from 'chai';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const DIR = join(import.meta.dirname, '../../lib/protocol');
/**
 * failure.ts reports the GSS major a mechanism would return, from ffi/gss-status.ts: the RFC 2744 numbers, defined
 * once, data without native calls that imports nothing (test/unit/layers.test.ts checks that).
 */
const ALLOWED = new Set(['failure.ts -> ../../ffi/gss-status.js']);

describe('the protocol layer (lib/protocol) imports nothing but itself', () => {
  it('no file in lib/protocol imports providers, vocabulary, the facade, client, server or ffi', () => {
    const outside: string[] = [];
    const files = readdirSync(DIR).filter((f) => f.endsWith('.ts'));
    expect(files).to.include.members(['initiator.ts', 'acceptor.ts', 'mechanism.ts', 'failure.ts']);
    for (const file of files) {
      const source = readFileSync(join(DIR, file), 'utf8');
      for (const [, spec] of source.matchAll(/\bfrom\s+'([^']+)'/g)) {
        if (spec.startsWith('./') || spec.startsWith('node:')) continue;
        if (!ALLOWED.has(`${file} -> ${spec}`)) outside.push(`${file} -> ${spec}`);
      }
    }
    expect(outside).to.deep.equal([]);
  });
});
