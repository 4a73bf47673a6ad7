import { type Browser, chromium } from 'playwright-core';

/** Debian's Chromium (`apt-get install chromium`): no browser is downloaded. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/**
 * Headless Chromium as this machine needs it: without the background-networking flags it
 * keeps dialling hosts the closed network refuses. playwright gives every launch a fresh
 * temporary --user-data-dir of its own (it refuses one passed in).
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
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
}
