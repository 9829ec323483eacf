import { access, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { requireService } from './services.ts';

/** Debian's Chromium; never a downloaded browser. */
export const CHROMIUM = process.env.BATON_CHROMIUM || '/usr/bin/chromium';

/** Screenshots of each page land here as test artifacts. */
export const SCREENSHOTS = join(import.meta.dirname, '..', '..', 'test-artifacts', 'screenshots');

/** Browser suites run only where Chromium is installed (CI installs it; see .ci/run). */
export const chromiumService = requireService('chromium', async () => {
  try {
    await access(CHROMIUM);
    return null;
  } catch {
    return `${CHROMIUM} not found (apt-get install chromium)`;
  }
});

/** A headless Chromium with the flags this sandbox needs (no background networking: it has no internet). */
export async function launchBrowser(): Promise<Browser> {
  await mkdir(SCREENSHOTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
