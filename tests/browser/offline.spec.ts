// The service worker: the precache (app shell, wasm, ONNX Runtime Web), and the app offline.
import { buildInfo, expectedPrecache } from './build_info';
import { controlled, expect, test } from './fixtures';

test('the service worker precaches every file of the build with its revision', async ({ page }) => {
  await page.goto('/');
  await controlled(page);
  const cached = await page.evaluate(async () => {
    const name = (await caches.keys()).find((k) => k.startsWith('workbox-precache'));
    if (!name) return [];
    const keys = await (await caches.open(name)).keys();
    return keys
      .map((r) => {
        const u = new URL(r.url);
        return `${u.pathname.slice(1)}${u.searchParams.has('__WB_REVISION__') ? ' (revisioned)' : ''}`;
      })
      .sort();
  });
  const expected = expectedPrecache().map((f) =>
    /\.[0-9a-f]{16}\.[a-z]+$/.test(f) ? f : `${f} (revisioned)`,
  );
  expect(cached).toEqual(expected.sort());
  // ONNX Runtime Web's runtime is among them.
  for (const glue of buildInfo().ort) {
    expect(cached).toContain(`${glue} (revisioned)`);
    expect(cached).toContain(`${glue.replace(/\.mjs$/, '.wasm')} (revisioned)`);
  }
});

test('the app shell reloads offline, and any navigation falls back to it', async ({
  page,
  network,
  shot,
}) => {
  await page.goto('/');
  await controlled(page);
  await expect(page.locator('#net')).toHaveText('Online');
  await network.offline();
  await expect(page.locator('#net')).toHaveText('Offline');
  await page.reload();
  await expect(page.locator('body')).toHaveAttribute('data-ready', 'true');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Cairn');
  await expect(page.locator('#net')).toHaveText('Offline');
  await shot(page, 'offline');
  // A navigation the precache does not know (a query string) gets the shell too.
  await page.goto('/index.html?from=home-screen');
  await expect(page.locator('body')).toHaveAttribute('data-ready', 'true');
  await network.online();
  await expect(page.locator('#net')).toHaveText('Online');
});

test('offline without the service worker does fail (the test above can fail)', async ({
  page,
  network,
}) => {
  await page.goto('/');
  await controlled(page);
  await page.evaluate(async () => {
    for (const r of await navigator.serviceWorker.getRegistrations()) await r.unregister();
  });
  await network.offline();
  await expect(page.reload()).rejects.toThrow(/ERR_INTERNET_DISCONNECTED/);
});

test('the list of model packs is the last one seen when offline', async ({ page, network }) => {
  await page.goto('/');
  await controlled(page);
  const online = await page.evaluate(async () => (await fetch('models/index.json')).json());
  await network.offline();
  const offline = await page.evaluate(async () => (await fetch('models/index.json')).json());
  expect(offline).toEqual(online);
});
