/** Debian's chromium, driven by playwright-core, for tests of pages mvm writes. */
import { chromium, type Browser, type Page } from 'playwright-core';

/** Where chromium is (scripts/ensure-tools.sh installs it; `npm test` runs that first). */
export const CHROMIUM = process.env.MVM_CHROMIUM ?? '/usr/bin/chromium';

/** Starts headless chromium with no network side traffic (the machine's network is closed). */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
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

/** A page that records every console error or warning, uncaught exception and request outside `allowed`. */
export async function watchedPage(
  browser: Browser,
  allowed: (url: string) => boolean,
): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('request', (r) => {
    if (!allowed(r.url())) problems.push(`request: ${r.url()}`);
  });
  return { page, problems };
}
