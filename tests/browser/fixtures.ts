// The browser tests' fixtures. Every test gets Debian's Chromium on a fresh profile directory
// (a persistent context, so service workers, Cache Storage, OPFS and IndexedDB behave as in an
// installed browser), pointed at the shared cairn-server.
//
//   import { test, expect } from './fixtures';
//   test('…', async ({ page, profile, network, serverUrl, shot }) => {
//     await page.goto('/');
//     await network.offline();               // context offline: navigator.onLine false, no network
//     await profile.restart();               // close the browser, start it on the same profile
//     await profile.page.goto('/');          // after a restart use profile.page / profile.context
//     await shot(profile.page, 'unlock');    // build/browser-screenshots/unlock.png
//   });
import { chromium, expect, test as base } from '@playwright/test';
import type { BrowserContext, CDPSession, Page } from '@playwright/test';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { ROOT } from './server';

export { expect };

export const CHROMIUM = process.env['CAIRN_CHROMIUM'] ?? '/usr/bin/chromium';
// DESIGN.md's flags for headless Chromium here.
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
export const SCREENSHOTS = join(ROOT, 'build/browser-screenshots');

export interface Profile {
  readonly dir: string;
  context: BrowserContext;
  page: Page;
  /** Closes the browser and starts it again on the same profile directory. */
  restart(): Promise<void>;
}

export interface Network {
  offline(): Promise<void>;
  online(): Promise<void>;
}

export async function launch(
  dir: string,
  baseURL: string,
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
    headless: true,
    baseURL,
    viewport: { width: 412, height: 915 },
    deviceScaleFactor: 1,
    serviceWorkers: 'allow',
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return { context, page };
}

export async function cdp(page: Page): Promise<CDPSession> {
  return page.context().newCDPSession(page);
}

/** CDP Page.getInstallabilityErrors for the page's manifest: [] when installable. */
export async function installabilityErrors(page: Page): Promise<{ errorId: string }[]> {
  const s = await cdp(page);
  const r = await s.send('Page.getInstallabilityErrors');
  await s.detach();
  return r.installabilityErrors;
}

/** Fires a Background Sync event on the origin's service worker, as the browser would when the
 * connection returns (CDP ServiceWorker.dispatchSyncEvent). `through` is any page of the
 * context; it need not be one of the app's. */
export async function dispatchSync(
  through: Page,
  origin: string,
  tag: string,
  lastChance = false,
): Promise<void> {
  const s = await cdp(through);
  const registrationId = await new Promise<string>((ok, fail) => {
    const timer = setTimeout(
      () => fail(new Error(`no service worker registration for ${origin}`)),
      10_000,
    );
    s.on('ServiceWorker.workerRegistrationUpdated', ({ registrations }) => {
      const r = registrations.find((x) => x.scopeURL.startsWith(origin) && !x.isDeleted);
      if (r) {
        clearTimeout(timer);
        ok(r.registrationId);
      }
    });
    void s.send('ServiceWorker.enable');
  });
  await s.send('ServiceWorker.dispatchSyncEvent', { origin, registrationId, tag, lastChance });
  await s.detach();
}

/** Waits until the page is controlled by an activated service worker. */
export async function controlled(page: Page): Promise<void> {
  await page.waitForFunction(
    () => navigator.serviceWorker.controller?.state === 'activated',
    null,
    { timeout: 20_000 },
  );
}

export const test = base.extend<{
  serverUrl: string;
  profile: Profile;
  network: Network;
  shot: (page: Page, name: string) => Promise<void>;
}>({
  serverUrl: async ({}, use) => {
    const url = process.env['CAIRN_TEST_URL'];
    if (!url)
      throw new Error('CAIRN_TEST_URL is not set: run through tests/browser/playwright.config.ts');
    await use(url);
  },
  profile: async ({ serverUrl }, use) => {
    const dir = fs.mkdtempSync(join(os.tmpdir(), 'cairn-profile-'));
    const first = await launch(dir, serverUrl);
    const profile: Profile = {
      dir,
      ...first,
      async restart() {
        await profile.context.close();
        Object.assign(profile, await launch(dir, serverUrl));
      },
    };
    await use(profile);
    await profile.context.close();
    fs.rmSync(dir, { recursive: true, force: true });
  },
  context: async ({ profile }, use) => {
    await use(profile.context);
  },
  page: async ({ profile }, use) => {
    await use(profile.page);
  },
  network: async ({ profile }, use) => {
    const flip = async (online: boolean): Promise<void> => {
      await profile.context.setOffline(!online);
      for (const p of profile.context.pages()) {
        if (p.url().startsWith('http'))
          await p.waitForFunction((want) => navigator.onLine === want, online);
      }
    };
    await use({ offline: () => flip(false), online: () => flip(true) });
  },
  shot: async ({}, use) => {
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    await use(async (page, name) => {
      await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
    });
  },
});
