// What can stop an lbctl command before or between its admin API calls.

/** A mistake on the command line. Exit code 2, with the usage line of the command. */
export class UsageError extends Error {
  /** @param {string} message @param {string} [usage] */
  constructor(message, usage) {
    super(message);
    this.name = 'UsageError';
    this.usage = usage;
  }
}

/**
 * A change that what the server answered rules out (a rule that is not there, a name
 * already taken), found by lbctl between reading and writing. Exit code 1, printed as
 * the API's own refusals are: `lbctl: <code>: <message>`.
 */
export class RefusedError extends Error {
  /** @param {string} code @param {string} message */
  constructor(code, message) {
    super(message);
    this.name = 'RefusedError';
    this.code = code;
  }
}
