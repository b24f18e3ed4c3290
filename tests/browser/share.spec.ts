// The Web Share Target: a photo POSTed to the manifest's action (as the OS share sheet does) is
// kept by the service worker and handed to the compose screen.
import { controlled, expect, test } from './fixtures';
import { PHOTO, share } from './share_target';

test('a shared photo is kept by the service worker and opens compose', async ({ page }) => {
  await page.goto('/');
  await controlled(page);
  const urls = await share(page, true);
  expect(
    urls.some((u) => u.endsWith('/#/compose?shared=1')),
    urls.join(', '),
  ).toBe(true);
  // Compose takes the photo from the share inbox (Cache Storage), once.
  const kept = await page.evaluate(async () => {
    const r = await (
      await caches.open('cairn-share')
    ).match(new URL('shared/photo', location.href).href);
    return r
      ? {
          type: r.headers.get('Content-Type'),
          name: r.headers.get('X-Cairn-File-Name'),
          size: (await r.arrayBuffer()).byteLength,
        }
      : null;
  });
  const screen = await page.locator('body').getAttribute('data-screen');
  if (screen === 'compose') {
    await expect(page.locator('.photo-name')).toHaveText('beach.png');
    await expect(page.locator('img.preview')).toBeVisible();
  } else {
    // No vault open (or no core): the photo waits in the inbox for compose.
    expect(kept).toEqual({ type: 'image/png', name: 'beach.png', size: PHOTO.length });
  }
});

test('a share without a photo opens compose without one', async ({ page }) => {
  await page.goto('/');
  await controlled(page);
  const urls = await share(page, false);
  expect(
    urls.some((u) => u.endsWith('/#/compose')),
    urls.join(', '),
  ).toBe(true);
  expect(urls.some((u) => u.includes('shared=1'))).toBe(false);
});
