// A mocha reporter for CI: mocha's spec output on the console, and mocha's own JSON reporter writing to the file
// named by MOCHA_JSON_OUT (from which .ci/run prints "N passed, N failed").
const Mocha = require('mocha');

class CiReporter extends Mocha.reporters.Base {
  constructor(runner, options) {
    super(runner, options);
    new Mocha.reporters.Spec(runner, options);
    if (process.env.MOCHA_JSON_OUT) {
      new Mocha.reporters.JSON(runner, { ...options, reporterOption: { output: process.env.MOCHA_JSON_OUT } });
    }
  }
}

module.exports = CiReporter;
