// Sharing to the app as the OS share sheet does (the manifest's share_target), for the tests.
import type { Page } from '@playwright/test';
import { expect } from './fixtures';

/** A 1x1 PNG, shared as beach.png. */
export const PHOTO = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);

// Submits a multipart form to the share action: a navigation POST, like a share from the gallery.
export async function share(page: Page, withPhoto: boolean): Promise<string[]> {
  const urls: string[] = [];
  page.on('framenavigated', (f) => {
    if (f === page.mainFrame()) urls.push(f.url());
  });
  const manifest = await (await page.request.get('/app.webmanifest')).json();
  await page.evaluate((action) => {
    const form = document.createElement('form');
    form.method = 'POST';
    form.enctype = 'multipart/form-data';
    form.action = new URL(action, location.href).href;
    const file = document.createElement('input');
    file.type = 'file';
    file.name = 'photo';
    const title = document.createElement('input');
    title.name = 'title';
    title.value = 'Beach day';
    form.append(file, title);
    form.id = 'share-form';
    document.body.append(form);
  }, manifest.share_target.action as string);
  if (withPhoto)
    await page.setInputFiles('#share-form input[type=file]', {
      name: 'beach.png',
      mimeType: 'image/png',
      buffer: PHOTO,
    });
  await Promise.all([
    page.waitForURL(/#\//),
    page.evaluate(() => (document.getElementById('share-form') as HTMLFormElement).submit()),
  ]);
  await expect(page.locator('body')).toHaveAttribute('data-ready', 'true');
  return urls;
}

