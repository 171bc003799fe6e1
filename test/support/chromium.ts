// Debian's Chromium for the browser tests: where it is, whether the tests may skip
// without it (not in CI), and how it is launched.
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Whether Chromium is there; in CI its absence is an error, elsewhere a warning and a skip. */
export function haveChromium(what: string): boolean {
  if (existsSync(CHROMIUM)) return true;
  const inCi = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false' && process.env.CI !== '0';
  if (inCi) throw new Error(`${CHROMIUM} is missing, and CI must run ${what}: apt-get install chromium (.ci/run does)`);
  console.warn(`Skipping ${what}: ${CHROMIUM} is missing. Install it with: sudo apt-get install chromium`);
  return false;
}

/** Headless Chromium with the flags this machine needs, plus `extraArgs`. */
export function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', ...extraArgs],
  });
}
