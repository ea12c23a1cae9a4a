// The one way a test of this suite does without something it needs: `needs(this, available, reason)` in a test or a
// hook. Under CI=true a missing capability fails (CI installs everything, so a gap there is a fault, never a silent
// drop); elsewhere the test, or every test below the hook's suite, is skipped with the reason appended to its title
// (so the spec output and mocha's JSON report name it) and printed once on stderr.
import type { Context, Suite, Test } from 'mocha';

const said = new Set<string>();

function mark(t: Test, reason: string): void {
  if (!t.title.includes('[skipped:')) t.title += ` [skipped: ${reason}]`;
}

function markSuite(s: Suite, reason: string): void {
  for (const t of s.tests) mark(t, reason);
  for (const child of s.suites) markSuite(child, reason);
}

export function needs(ctx: Context, available: boolean, reason: string): void {
  if (available) return;
  if (process.env.CI === 'true') throw new Error(`CI=true and this is missing: ${reason}`);
  const runnable = ctx.test;
  if (runnable && (runnable as { type?: string }).type === 'hook') {
    if (runnable.parent) markSuite(runnable.parent, reason);
  } else if (runnable) {
    mark(runnable as Test, reason);
  }
  if (!said.has(reason)) {
    said.add(reason);
    process.stderr.write(`\nSKIPPED (${runnable?.parent?.fullTitle() || runnable?.title}): ${reason}\n`);
  }
  ctx.skip();
}
