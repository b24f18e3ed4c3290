// Opt-in (CAIRN_TEST_MODELS_DIR must hold the real cairn-image-safety and cairn-image-tags packs,
// e.g. build/models from ./cairn models): the compose screen's photo through both real packs in
// Chromium. On the wasm backend the app must download and run their wasm-int8 variants (weight-
// only int8, models/recipe/image_int8.py), and the provenance must say so.
//   CAIRN_TEST_MODELS_DIR=build/models ./cairn browser tests/browser/photo_real.spec.ts
import * as fs from 'node:fs';
import { join } from 'node:path';
import { createVault, go } from './app_steps';
import { expect, test } from './fixtures';

const PACKS = process.env['CAIRN_TEST_MODELS_DIR'] ?? '';
const HAVE = PACKS !== '' && ['cairn-image-safety', 'cairn-image-tags'].every((p) =>
  fs.existsSync(join(PACKS, p, 'manifest.json')));

test('the real image packs run their wasm-int8 variants and say so', async ({ page }) => {
  test.skip(!HAVE, 'set CAIRN_TEST_MODELS_DIR to a folder with cairn-image-safety and cairn-image-tags');
  await createVault(page);
  for (const id of ['cairn-image-tags', 'cairn-image-safety']) {
    await go(page, 'Models');
    const item = page.locator('li.model', { hasText: id });
    await item.getByRole('button', { name: /Install/ }).click();
    await expect(item.locator('.state')).toHaveText('installed', { timeout: 120_000 });
  }
  await go(page, 'Compose');
  // A real picture without an image file in the repository: the app's own screen.
  const photo = await page.screenshot({ clip: { x: 0, y: 0, width: 320, height: 240 } });
  const started = Date.now();
  await page.locator('#photo-input').setInputFiles({ name: 'screen.png', mimeType: 'image/png', buffer: photo });
  const prov = page.locator('.photo-analysis .photo-provenance');
  await expect(prov).toContainText(/cairn-image-tags 1\.1\.0 \(wasm-int8, int8, LicenseRef-unknown\) on ort-web-wasm; checksum [0-9a-f]{8}/, { timeout: 120_000 });
  await expect(prov).toContainText(/cairn-image-safety 1\.1\.0 \(wasm-int8, int8, MIT\) on ort-web-wasm/);
  console.log(`photo analysed in ${Date.now() - started} ms (both packs, first run, wasm-int8): ` +
    `${(await page.locator('.photo-analysis').textContent())?.replace(/\s+/g, ' ').slice(0, 400)}`);
});
