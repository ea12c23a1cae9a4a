// The public API is what test/api-surface.txt says, so that a change to what users can import (a name, a signature)
// fails `npm test` until it is reviewed and written there with `npm run api:update`. scripts/check-api.ts builds the
// declarations and lists them; moving code between internal modules does not change the listing.
import { expect } from 'chai';
import * as api from '../../lib/index.js';
import { checkApi, diffLines } from '../../scripts/check-api.js';

describe('public API surface (scripts/check-api.ts, test/api-surface.txt)', function () {
  // The declaration build takes a few seconds; on a loaded CI machine, more.
  this.timeout(120_000);
  let result: ReturnType<typeof checkApi>;

  before(() => {
    result = checkApi();
  });

  it('equals the reviewed baseline (after an intended change: npm run api:update)', () => {
    if (result.difference !== undefined) {
      expect.fail(`the public API differs from test/api-surface.txt (- baseline, + now):\n${result.difference}\n`
        + 'If the change is intended, review it and run: npm run api:update');
    }
  });

  it('lists every value the entry point exports at run time, as importable (not type-only)', () => {
    const listed = new Set([...result.current.matchAll(/^export (?!type-only )\w+ (\S+)$/gm)].map((m) => m[1]));
    expect(Object.keys(api).filter((name) => !listed.has(name))).to.deep.equal([]);
    expect(Object.keys(api).length).to.be.greaterThan(100);
  });

  it('diffLines shows removed and added lines with their context', () => {
    const before = ['a', 'b', 'c', 'd', 'e', 'f', 'g'].join('\n');
    const after = ['a', 'b', 'c', 'D', 'e', 'f', 'g', 'h'].join('\n');
    expect(diffLines(before, after, 1)).to.equal(['  c', '- d', '+ D', '  e', '...', '  g', '+ h'].join('\n'));
    expect(diffLines('same', 'same')).to.equal('');
  });
});
