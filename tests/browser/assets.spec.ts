// The Assets screen with real assets: a photo picked on Compose, the HQ renders of its image
// export and an HQ caption result, both made by the shared cairn-server's render worker (libvips
// and the tiny caption pack on native ONNX Runtime) and stored in the encrypted vault by the
// core's sync engine. Each is listed newest first with its provenance as text; thumbnails are
// decoded from the vault in the worker and drawn on canvases. Markup from outside — a photo's
// file name and a caption the server's model "wrote" (the real server's result, altered on the
// way as a compromised server or model would) — stays literal text. One asset is deleted, after
// a confirmation, and stays deleted after a reload.
import * as fs from 'node:fs';
import { createVault, installModel, png, unlock } from './app_steps';
import { expect, test } from './fixtures';

const HOSTILE = '<img src=x onerror="document.body.dataset.pwned=1">';

test('Assets lists photos, HQ renders and HQ captions with provenance; one is deleted', async ({
  page,
  context,
  shot,
}) => {
  test.setTimeout(240_000);
  // The real result, with its first caption replaced by markup before the app's worker sees it.
  let altered = 0;
  await context.route(/\/v1\/jobs\/[0-9a-f]+\/result$/, async (route) => {
    const response = await route.fetch();
    const body = (await response.json()) as { result?: { captions?: { text: string }[] } };
    if (body.result?.captions?.length) {
      body.result.captions[0]!.text = HOSTILE;
      altered++;
    }
    await route.fulfill({ response, json: body });
  });

  await createVault(page);
  await installModel(page, 'cairn-test-tiny-llama');
  await expect(page.locator('li.model', { hasText: 'cairn-test-tiny-llama' }).locator('.state'))
    .toHaveText('installed', { timeout: 60_000 });

  // An HQ caption job from a saved draft, rendered by the server.
  await page.getByRole('navigation').getByRole('link', { name: 'Compose' }).click();
  await page.getByLabel('Context').fill('pier at sunset; sea, sky');
  await page.getByLabel('How many captions').fill('2');
  await page.getByLabel(/^ ?Low/).check();
  await page.getByRole('button', { name: 'Generate captions' }).click();
  await expect(page.locator('.provenance')).toContainText('ort-web-', { timeout: 60_000 });
  await page.locator('input[name=caption-choice]').first().check();
  await page.getByRole('button', { name: 'Save as draft' }).click();
  const savedLine = page.getByText(/^Saved \(draft \d+, version 1\)\.$/);
  await expect(savedLine).toBeVisible();
  const draftId = /draft (\d+)/.exec((await savedLine.textContent()) ?? '')![1];
  await page.getByRole('button', { name: 'Export in HQ', exact: true }).click();
  await expect(page.locator('body')).toHaveAttribute('data-screen', 'jobs');
  const newestJob = page.locator('li.job').first().locator('.state');
  await expect(newestJob).toHaveText('Done', { timeout: 90_000 });
  expect(altered).toBe(1);

  // A photo with a hostile file name, and its HQ image export.
  await page.getByRole('navigation').getByRole('link', { name: 'Compose' }).click();
  await page.locator('#photo-input').setInputFiles({
    name: `${HOSTILE}.png`,
    mimeType: 'image/png',
    buffer: png(96, 64, [240, 120, 40]),
  });
  await expect(page.locator('.photo-saved')).toHaveText(/^Photo kept in the vault \(asset \d+\)/);
  await page.getByRole('button', { name: 'Export image in HQ' }).click();
  await expect(page.locator('body')).toHaveAttribute('data-screen', 'jobs');
  await expect(newestJob).toHaveText('Done', { timeout: 90_000 });

  await page.getByRole('navigation').getByRole('link', { name: 'Assets' }).click();
  await expect(page.locator('#screen-title')).toHaveText('Assets');
  const items = page.locator('li.asset');
  await expect(items).toHaveCount(4);
  await expect(page.locator('#assets-status')).toHaveText('4 assets.');
  // Newest first: the two renders (saved in the order the server listed them), the photo, the
  // HQ captions.
  expect(await items.evaluateAll((els) => els.map((e) => e.getAttribute('data-kind')))).toEqual([
    'render', 'render', 'photo', 'caption-hq',
  ]);
  const ids = await items.evaluateAll((els) => els.map((e) => Number(e.id.replace('asset-', ''))));
  expect([...ids].sort((a, b) => b - a)).toEqual(ids);

  const portrait = items.nth(0);
  await expect(portrait.locator('.asset-title')).toHaveText(/^HQ render 1080x1350 · asset \d+$/);
  const prov = portrait.locator('dl.provenance');
  await expect(prov).toContainText(/Made bycairn-server image-export\/1 \d+\.\d+/);
  await expect(prov).toContainText('Backendlibvips');
  await expect(prov).toContainText('Tiercloud');
  await expect(prov).toContainText('Presetfinal');
  await expect(prov).toContainText(/Size\d+(\.\d+)? kB, 1080×1350/);
  await expect(prov).toContainText('Created');
  // The thumbnail: the rendition decoded in the worker, drawn scaled to fit 96 px.
  const thumb = portrait.locator('canvas.thumb');
  await expect(thumb).toHaveAttribute('data-state', 'shown');
  expect(await thumb.evaluate((c: HTMLCanvasElement) => `${c.width}x${c.height}`)).toBe('77x96');
  const lit = await thumb.evaluate((c: HTMLCanvasElement) => {
    const d = c.getContext('2d')!.getImageData(c.width >> 1, c.height >> 1, 1, 1).data;
    return [d[0], d[1], d[2], d[3]];
  });
  expect(lit[3]).toBe(255); // painted: the picture, not an empty canvas
  expect(Math.abs(lit[0]! - 240)).toBeLessThan(30); // the photo's orange, through libvips

  const photo = items.nth(2);
  await expect(photo.locator('.asset-name')).toHaveText(`${HOSTILE}.png`);
  await expect(photo.locator('dl.provenance')).toContainText('Made byyou');
  await expect(photo.locator('dl.provenance')).toContainText('96×64');
  await expect(photo.locator('canvas.thumb')).toHaveAttribute('data-state', 'shown');

  const captions = items.nth(3);
  await expect(captions.locator('.asset-title')).toHaveText(/^HQ captions · asset \d+$/);
  await expect(captions.locator('.hq-captions li').first()).toHaveText(HOSTILE);
  expect(await captions.locator('.hq-captions li').count()).toBeGreaterThan(1);
  const cprov = captions.locator('dl.provenance');
  await expect(cprov).toContainText(/Made bycairn-test-tiny-llama \S+ \(fp32\)/);
  await expect(cprov).toContainText('Backendort-native-cpu');
  await expect(cprov).toContainText('Tiercloud');
  await expect(cprov).toContainText('Presetfinal');
  await expect(captions.locator('.draft-link')).toHaveText(`draft ${draftId}`);
  // None of it became markup.
  expect(await page.locator('li.asset img, li.asset script, li.asset iframe').count()).toBe(0);
  expect(await page.evaluate(() => document.body.dataset['pwned'])).toBeUndefined();
  // Mobile-first: nothing (a long caption, a long name) widens the page past the phone's width.
  expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth))
    .toBe(true);
  await shot(page, 'assets');

  // Saved out of the vault: the rendition's own bytes (a JPEG).
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    portrait.getByRole('button', { name: /^Save HQ render 1080x1350/ }).click(),
  ]);
  expect(download.suggestedFilename()).toMatch(/^cairn-render-\d+-1080x1350\.jpg$/);
  const saved = fs.readFileSync((await download.path())!);
  expect([...saved.subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);

  // Delete the photo: asked first; "Keep it" keeps it.
  await photo.getByRole('button', { name: /^Delete Photo/ }).click();
  const question = photo.getByRole('alertdialog');
  await expect(question).toContainText('Delete photo (asset');
  await expect(question).toContainText('It cannot be brought back.');
  await shot(page, 'assets-delete-confirm');
  await question.getByRole('button', { name: 'Keep it' }).click();
  await expect(items).toHaveCount(4);
  await photo.getByRole('button', { name: /^Delete Photo/ }).click();
  await photo.getByRole('button', { name: 'Delete for good' }).click();
  await expect(items).toHaveCount(3);
  await expect(page.locator('#assets-status')).toHaveText('3 assets.');
  await expect(page.locator('li.asset[data-kind=photo]')).toHaveCount(0);

  // Deleted in the vault, not just on the screen.
  await page.reload();
  await unlock(page, 'assets');
  await expect(page.locator('li.asset')).toHaveCount(3);
  await expect(page.locator('li.asset[data-kind=photo]')).toHaveCount(0);
});
