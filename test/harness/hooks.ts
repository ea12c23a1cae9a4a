// Mocha root hooks: stop the shared KDC (and remove its directory) when the run ends.
import { stopSharedKdc } from './kdc.js';

export const mochaHooks = {
  async afterAll(): Promise<void> {
    await stopSharedKdc();
  },
};
