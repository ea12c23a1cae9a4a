// The check every option test makes: a call that must refuse its arguments with TypeError, before any native work.
// A failure names the options' keys, never their values (some are passwords).
import { expect } from 'chai';
import { acquireCredentialsHandle, type AcquireCredentialsOptions } from '../../lib/index.js';

export async function expectTypeErrors<T extends object>(call: (options: T) => Promise<unknown>, optionsList: T[]): Promise<void> {
  for (const options of optionsList) {
    let caught: unknown;
    try {
      await call(options);
    } catch (err) {
      caught = err;
    }
    expect(caught, JSON.stringify(Object.keys(options))).to.be.instanceOf(TypeError);
  }
}

/** acquireCredentialsHandle refuses each of these with TypeError. */
export const expectAcquireRefused = (optionsList: AcquireCredentialsOptions[]) => expectTypeErrors(acquireCredentialsHandle, optionsList);
