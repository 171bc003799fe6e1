// What the Node CLIs (lbctl, simulate) share about being run as a program.
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Whether the module at `moduleUrl` is the program Node was started with (not an import). */
export function invokedDirectly(moduleUrl) {
  try {
    return process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(moduleUrl));
  } catch {
    return false;
  }
}

/** `cli … | head` closes the pipe early: that is not an error. */
export function exitQuietlyOnClosedPipe() {
  process.stdout.on('error', (error) => {
    if (/** @type {NodeJS.ErrnoException} */ (error).code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}
