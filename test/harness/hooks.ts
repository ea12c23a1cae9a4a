// Mocha root hooks: record everything the suite prints, check at the end that no secret of the test realm (the
// generated passwords) appeared in it, then stop the shared KDC and remove its directory.
import { sharedKdcIfStarted, stopSharedKdc } from './kdc.js';
import { showsPassword } from './secrets.js';

const printed: string[] = [];
for (const stream of [process.stdout, process.stderr]) {
  const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
  stream.write = ((chunk: unknown, ...rest: unknown[]) => {
    printed.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    return write(chunk, ...rest);
  }) as typeof stream.write;
}

export const mochaHooks = {
  async afterAll(): Promise<void> {
    const kdc = await sharedKdcIfStarted();
    try {
      if (kdc && showsPassword(kdc, printed.join(''))) throw new Error('a test password appeared in the suite\'s output');
    } finally {
      await stopSharedKdc();
    }
  },
};
