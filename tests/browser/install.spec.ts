// Installability: the manifest, its icons, and what the app shows at start.
import { buildInfo } from './build_info';
import { controlled, expect, installabilityErrors, test } from './fixtures';

test('Chromium reports no installability errors', async ({ page, shot }) => {
  await page.goto('/');
  await controlled(page);
  await expect.poll(() => installabilityErrors(page), { timeout: 20_000 }).toEqual([]);
  await shot(page, 'start');
});

test('the manifest names the app, scope, display, share target and loadable icons', async ({
  page,
}) => {
  await page.goto('/');
  const res = await page.request.get('/app.webmanifest');
  expect(res.headers()['content-type']).toBe('application/manifest+json');
  const m = await res.json();
  expect(m).toMatchObject({
    short_name: 'Cairn',
    display: 'standalone',
    start_url: './#/compose',
    scope: './',
  });
  expect(m.share_target).toMatchObject({ method: 'POST', enctype: 'multipart/form-data' });
  expect(
    m.icons.map((i: { sizes: string; purpose: string }) => `${i.sizes} ${i.purpose}`).sort(),
  ).toEqual(['192x192 any', '512x512 any', '512x512 maskable']);
  for (const icon of m.icons as { src: string; sizes: string; type: string }[]) {
    const png = await page.request.get(new URL(icon.src, res.url()).href);
    expect(png.status(), icon.src).toBe(200);
    expect(png.headers()['content-type']).toBe('image/png');
    const body = await png.body();
    expect(body.subarray(1, 4).toString('ascii')).toBe('PNG');
    expect(`${body.readUInt32BE(16)}x${body.readUInt32BE(20)}`, icon.src).toBe(icon.sizes);
    // The image decodes in the browser too.
    const decoded = await page.evaluate(async (src) => {
      const img = new Image();
      img.src = src;
      await img.decode();
      return `${img.naturalWidth}x${img.naturalHeight}`;
    }, new URL(icon.src, res.url()).href);
    expect(decoded).toBe(icon.sizes);
  }
});

test('when the core cannot start the app explains itself instead of going blank', async ({
  page,
  shot,
}) => {
  // The core worker's script fails to load (evicted from the cache, a broken download): the
  // app must land on the recovery screen, with the reason.
  if (buildInfo().coreWorker !== null) await page.route('**/core_worker.*.js', (r) => r.abort());
  await page.goto('/');
  await expect(page.locator('body')).toHaveAttribute('data-screen', 'recovery');
  await expect(page.getByRole('heading', { level: 2 })).toHaveText('Cairn could not start');
  await expect(page.getByRole('button', { name: 'Try again' })).toBeVisible();
  await expect(page.getByRole('navigation')).toBeHidden();
  // Storage: its use is shown, and persistence can be asked for from here too.
  await expect(page.getByText(/^Cairn uses .+ of the .+ this browser allows/)).toBeVisible();
  await page.getByRole('button', { name: 'Keep my data on this device' }).click();
  await expect(page.locator('#status')).toHaveText(
    /^(The browser will keep Cairn's data\.|The browser did not agree to keep Cairn's data)/,
  );
  await shot(page, 'recovery');
});
