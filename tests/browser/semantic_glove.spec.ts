// Opt-in (CAIRN_TEST_MODELS_DIR must hold the real cairn-embed-glove pack, e.g. from
// ./cairn models): search by meaning and hashtag suggestions on the real 50,000-word GloVe pack
// (wasm-int8, 5.2 MB) in Chromium, and the figures the drafts screen measures on this device.
//   CAIRN_TEST_MODELS_DIR=build/models ./cairn browser tests/browser/semantic_glove.spec.ts
import * as fs from 'node:fs';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { controlled, expect, test } from './fixtures';

const PACKS = process.env['CAIRN_TEST_MODELS_DIR'] ?? '';
const HAVE_GLOVE = PACKS !== '' && fs.existsSync(join(PACKS, 'cairn-embed-glove', 'manifest.json'));

async function go(page: Page, name: 'Compose' | 'Drafts' | 'Models'): Promise<void> {
  await page.getByRole('navigation').getByRole('link', { name }).click();
  await expect(page.locator('#screen-title')).toHaveText(name);
}

test('the real GloVe pack: "ocean waves at dusk" finds the beach sunset draft', async ({ page }) => {
  test.skip(!HAVE_GLOVE, 'set CAIRN_TEST_MODELS_DIR to a folder with cairn-embed-glove');
  await page.goto('/');
  await controlled(page);
  await page.getByLabel('Passphrase', { exact: true }).fill('correct horse battery staple');
  await page.getByLabel('Passphrase again').fill('correct horse battery staple');
  await page.getByRole('button', { name: 'Create vault' }).click();
  await expect(page.locator('body')).toHaveAttribute('data-screen', 'compose');
  await go(page, 'Models');
  const item = page.locator('li.model', { hasText: 'cairn-embed-glove' });
  await item.getByRole('button', { name: /Install/ }).click();
  await expect(item.locator('.state')).toHaveText('installed', { timeout: 120_000 });

  const drafts = [
    'Beach sunset with friends #summer',
    'Quarterly tax filing was due for the year at the office',
    'Rainy city night at the street cafe',
    'Fresh pasta for dinner tonight',
    'New running shoes on the mountain trail',
    'My puppy learning to sit',
  ];
  for (const caption of drafts) {
    await go(page, 'Drafts');
    await go(page, 'Compose');
    await page.getByRole('button', { name: 'Write a caption yourself' }).click();
    await page.locator('#caption-text').fill(caption);
    await page.getByRole('button', { name: 'Save as draft' }).click();
    await expect(page.getByText(/^Saved \(draft \d+, version 1\)\.$/)).toBeVisible();
  }
  // Hashtags for a caption, from the 5,000-word bank.
  const chips = page.locator('#hashtag-suggestions button.chip');
  await expect(chips.first()).toBeVisible({ timeout: 60_000 });
  console.log(`suggested for "My puppy learning to sit": ${(await chips.allTextContents()).join(' ')}`);

  await go(page, 'Drafts');
  for (const q of ['ocean waves at dusk', 'dog training', 'ocean waves at dusk']) {
    await page.getByLabel('Search drafts').fill(q);
    await expect(page.locator('.hint', { hasText: `for “${q}”` })).toBeVisible();
  }
  const hits = page.locator('.list li');
  await expect(hits.first()).toContainText('Beach sunset with friends');
  await expect(hits.first()).toContainText('by meaning');
  await expect(page.locator('.list')).not.toContainText('Quarterly tax');
  console.log(`hits: ${(await hits.allTextContents()).join(' | ')}`);
  console.log(`semantic status: ${await page.locator('#semantic-status').textContent()}`);
});
