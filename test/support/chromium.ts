import type { Browser } from 'puppeteer-core';
import { existsSync } from 'node:fs';
import { IN_CI } from './environment.js';

/** Debian's Chromium (apt-get install chromium), or TWIN_CHROMIUM_PATH. */
export const CHROMIUM_PATH = process.env.TWIN_CHROMIUM_PATH ?? '/usr/bin/chromium';

/** True when Chromium is installed; in CI its absence fails the run instead of skipping browser tests. */
export function chromiumAvailable(): boolean {
  const available = existsSync(CHROMIUM_PATH);
  if (!available && IN_CI)
    throw new Error(
      `Chromium not found at ${CHROMIUM_PATH}: .ci/run must install it (apt-get install chromium)`,
    );
  return available;
}

/** Headless Chromium for the web app's tests and benchmark (a throwaway profile, no sandbox in CI). */
export async function launchChromium(): Promise<Browser> {
  const puppeteer = await import('puppeteer-core');
  return puppeteer.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'],
  });
}
