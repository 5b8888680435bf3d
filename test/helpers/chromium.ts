import { existsSync } from 'node:fs';
import type { TestContext } from 'node:test';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/**
 * Headless Debian chromium with a fresh profile, closed after the test. Without the
 * binary the test is skipped locally with the reason, and fails under CI=true (.ci/run installs it).
 */
export async function launchChromium(t: TestContext): Promise<Browser | undefined> {
  if (!existsSync(CHROMIUM)) {
    if (process.env.CI === 'true') throw new Error(`${CHROMIUM} is missing: .ci/run installs the Debian chromium package`);
    t.skip(`${CHROMIUM} not installed (apt-get install chromium); runs under CI`);
    return undefined;
  }
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    timeout: 30_000,
    // launch() gives every browser a fresh temporary profile (it refuses --user-data-dir).
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  t.after(() => browser.close());
  return browser;
}
