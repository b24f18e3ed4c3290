// HQ image export end to end: a photo picked offline is kept in the vault, its export queued
// while offline; back online, the core's sync engine uploads the photo (PUT /v1/blobs), submits
// the job, the real cairn-server renders it with libvips, and the renditions come back, checked
// against their BLAKE2b-256, into the vault as render assets shown through blob: URLs. The photo's
// asset is deleted while the export waits: the export still goes through.
// A server of its own with one render worker (the shared one may run none).
import * as fs from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { createVault, png } from './app_steps';
import { expect, test } from './fixtures';
import { APP_DIR, startServer } from './server';

test('an HQ image export asked for offline is rendered once online, stored and shown', async ({
  page,
  network,
}) => {
  const models = fs.mkdtempSync(join(os.tmpdir(), 'cairn-models-'));
  const server = await startServer({ app: APP_DIR, models, workers: 1 });
  try {
    await createVault(page, server.url);
    await network.offline();

    await page.locator('#photo-input').setInputFiles({
      name: 'sunset.png',
      mimeType: 'image/png',
      buffer: png(96, 64, [240, 120, 40]),
    });
    await expect(page.locator('.photo-saved')).toHaveText(/^Photo kept in the vault \(asset \d+\)\.$/);
    await page.getByRole('button', { name: 'Export image in HQ' }).click();
    await expect(page.locator('body')).toHaveAttribute('data-screen', 'jobs');
    const job = page.locator('li.job').first();
    await expect(job).toContainText('Image export · final');
    await expect(job.locator('.state')).toHaveText('Queued, waiting for a connection');
    expect(fs.readdirSync(server.dataDir).includes('blobs')
      ? fs.readdirSync(join(server.dataDir, 'blobs')).length : 0).toBe(0); // nothing sent yet

    // The creator deletes the photo while its export still waits for a connection: the export
    // must not be lost (its source stays in the vault, encrypted, until the job ends), and the
    // Assets screen says so.
    await page.getByRole('navigation').getByRole('link', { name: 'Assets' }).click();
    const photo = page.locator('li.asset[data-kind=photo]');
    await photo.getByRole('button', { name: /^Delete Photo/ }).click();
    await photo.getByRole('button', { name: 'Delete for good' }).click();
    await expect(photo).toHaveCount(0);
    await expect(page.locator('#assets-status')).toHaveText(
      'Nothing kept yet. An HQ export waiting to be sent still needs this photo: its copy stays ' +
        'on this device, encrypted, until the export is done.');
    await page.getByRole('navigation').getByRole('link', { name: 'Exports' }).click();

    await network.online();
    await expect(job.locator('.state')).toHaveText('Done', { timeout: 30_000 });
    const renders = job.locator('figure.render img');
    await expect(renders).toHaveCount(2);
    for (const [i, name] of ['1080x1080', '1080x1350'].entries()) {
      const img = renders.nth(i);
      await expect(img).toHaveAttribute('data-rendition', name);
      await expect(img).toHaveAttribute('src', /^blob:/);
      // Decoded at the size the server rendered: the picture itself came back.
      await expect.poll(() => img.evaluate((el: HTMLImageElement) => `${el.naturalWidth}x${el.naturalHeight}`)).toBe(name);
    }
    await expect(job.locator('figcaption').first()).toContainText('cairn-server image-export/1 (libvips ');
    await expect(job.locator('figcaption').first()).toContainText('cloud, final; checksum ');
    // Nothing of the server's was parsed as markup.
    expect(await job.locator('.renders script, .renders iframe').count()).toBe(0);
  } finally {
    await server.stop();
    fs.rmSync(models, { recursive: true, force: true });
  }
});
