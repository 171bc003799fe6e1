// What the Node CLIs (lbctl, simulate, preflight) share about being run as a program.
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Whether the module at `moduleUrl` is the program Node was started with (not an import).
 * @param {string} moduleUrl
 */
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

/**
 * Runs `run(argv)` as the program `name` when `moduleUrl` is what Node was started with:
 * its result is the exit code, and an unexpected error is an internal error (70).
 * @param {string} moduleUrl
 * @param {string} name
 * @param {(argv: string[]) => Promise<number>} run
 */
export async function runAsProgram(moduleUrl, name, run) {
  if (!invokedDirectly(moduleUrl)) return;
  exitQuietlyOnClosedPipe();
  try {
    process.exitCode = await run(process.argv.slice(2));
  } catch (error) {
    console.error(`${name}: internal error:`, error);
    process.exitCode = 70;
  }
}

/**
 * What went wrong, in words: an Error's message, anything else as text.
 * @param {unknown} error
 */
export function messageOf(error) {
  return error instanceof Error ? error.message : String(error);
}
