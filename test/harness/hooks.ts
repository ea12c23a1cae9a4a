// Mocha root hooks: record everything the suite prints, check at the end that no secret of the test realm (the
// generated passwords) appeared in it, then stop the shared KDC and remove its directory.
import { sharedKdcIfStarted, stopSharedKdc } from './kdc.js';

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
      const secrets = kdc ? [kdc.principals.alice.password, kdc.principals.bob.password].filter((p): p is string => !!p) : [];
      const output = printed.join('');
      for (const secret of secrets) {
        for (const form of [secret, Buffer.from(secret).toString('base64'), Buffer.from(secret).toString('hex')]) {
          if (output.includes(form)) throw new Error('a test password appeared in the suite\'s output');
        }
      }
    } finally {
      await stopSharedKdc();
    }
  },
};
