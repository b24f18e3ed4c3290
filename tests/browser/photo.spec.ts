// The compose screen's photo through the real core and ONNX Runtime Web, on TEST DOUBLES of the
// image packs (models/recipe/tiny_image_packs.py: tiny graphs with the real packs' inputs,
// outputs, labels and pre/post-processing; made-up outputs: red is "unsafe", the detector always
// sees a dog twice and a person). Tags prefill the Context, an unsafe verdict is shown and the
// creator can go on, provenance names each model; in a commercial workspace the photo-tags pack
// (licence unknown) is refused with the reason.
import type { Page } from '@playwright/test';
import { createVault, go, png } from './app_steps';
import { expect, test } from './fixtures';

async function install(page: Page, id: string): Promise<void> {
  await go(page, 'Models');
  const item = page.locator('li.model', { hasText: id });
  await item.getByRole('button', { name: /Install/ }).click();
  await expect(item.locator('.state')).toHaveText('installed', { timeout: 60_000 });
}

async function pickPhoto(page: Page, name: string, rgb: [number, number, number], fresh = true): Promise<void> {
  if (fresh) {
    await go(page, 'Drafts');
    await go(page, 'Compose');
  }
  await page.locator('#photo-input').setInputFiles({ name, mimeType: 'image/png', buffer: png(96, 64, rgb) });
}

test('photo tags prefill the context, an unsafe photo is flagged, provenance is shown', async ({ page, shot }) => {
  await createVault(page);
  await install(page, 'cairn-test-tiny-image-tags');
  // The tags pack's licence (unknown: non-commercial) is shown before the download.
  await expect(page.locator('li.model', { hasText: 'cairn-test-tiny-image-tags' })).toContainText('non-commercial only');
  await install(page, 'cairn-test-tiny-image-safety');

  await pickPhoto(page, 'red.png', [230, 20, 20]);
  const analysis = page.locator('.photo-analysis');
  await expect(analysis.locator('.photo-tags')).toHaveText('Photo tags: dog, person'); // the 2nd dog box: NMS
  await expect(page.getByLabel('Context')).toHaveValue('photo: dog and person; tags: dog, person');
  const unsafe = analysis.getByRole('alert');
  await expect(unsafe).toContainText('This photo may not be safe to post (Porn');
  await expect(unsafe).toContainText('You can still go on');
  const prov = analysis.locator('.photo-provenance');
  await expect(prov).toContainText('cairn-test-tiny-image-tags 1.0.0 (wasm-int8, int8, LicenseRef-unknown) on ort-web-wasm; checksum ');
  await expect(prov).toContainText('cairn-test-tiny-image-safety 1.0.0 (wasm-int8, int8, CC0-1.0) on ort-web-wasm');
  await shot(page, 'compose-photo-unsafe');
  // Going on is allowed: the form still works.
  await expect(page.getByRole('button', { name: 'Generate captions' })).toBeEnabled();

  // A grey photo: safe. Text the creator typed in Context is kept.
  await pickPhoto(page, 'grey.png', [128, 128, 128]);
  await expect(analysis.locator('.photo-safety')).toHaveText(/^Safety check: looks fine \(Neutral \d+ %\)\.$/);
  await expect(analysis.getByRole('alert')).toHaveCount(0);
  await page.getByLabel('Context').fill('my own words');
  await pickPhoto(page, 'grey2.png', [120, 120, 120], false);
  await expect(analysis.locator('.photo-safety')).toContainText('looks fine');
  await expect(analysis.locator('.photo-tags')).toHaveText('Photo tags: dog, person');
  await expect(page.getByLabel('Context')).toHaveValue('my own words');

  // A commercial workspace refuses the tags pack (licence unknown), with the reason; the
  // safety check (MIT-like CC0 test double) still runs.
  await go(page, 'Models');
  await page.getByLabel(/This is a commercial workspace/).check();
  await expect(page.getByText('Commercial workspace: models whose licence')).toBeVisible();
  await pickPhoto(page, 'grey3.png', [128, 128, 128]);
  await expect(analysis.locator('.photo-tags')).toContainText(
    'Photo tags are off: model cairn-test-tiny-image-tags 1.0.0 is licensed LicenseRef-unknown, which does not allow commercial use',
  );
  await expect(analysis.locator('.photo-tags')).toContainText('mark the workspace personal');
  await expect(analysis.locator('.photo-safety')).toContainText('looks fine');
  await expect(page.getByLabel('Context')).toHaveValue('');
  await shot(page, 'compose-photo-commercial');
});
