// Search by meaning and hashtag suggestions with the real core and ONNX Runtime Web: the
// tiny-topics test pack (models/recipe/tiny_embeddings.py: 8-d topic vectors placed by hand, the
// same wasm-int8 graph layout as cairn-embed-glove) is installed and verified like any pack;
// drafts saved before and after it get vectors in the encrypted vault; "ocean waves at dusk"
// finds the beach sunset draft that full-text search alone misses.
import type { Page } from '@playwright/test';
import { createVault, go } from './app_steps';
import { expect, test } from './fixtures';

async function saveDraft(page: Page, caption: string, hashtags = ''): Promise<void> {
  await go(page, 'Drafts');
  await go(page, 'Compose');
  await page.getByRole('button', { name: 'Write a caption yourself' }).click();
  await page.locator('#caption-text').fill(caption);
  await page.locator('#caption-hashtags').fill(hashtags);
  await page.getByRole('button', { name: 'Save as draft' }).click();
  await expect(page.getByText(/^Saved \(draft \d+, version 1\)\.$/)).toBeVisible();
}

async function search(page: Page, query: string): Promise<void> {
  await go(page, 'Drafts');
  await page.getByLabel('Search drafts').fill(query);
  await expect(page.locator('.hint', { hasText: `for “${query}”` })).toBeVisible();
}

test('search by meaning and hashtag suggestions on an installed embedding pack', async ({
  page,
  shot,
}) => {
  await createVault(page);
  // Saved before any embedding model: found by words only, and embedded lazily later.
  await saveDraft(page, 'Puppy and cat nap');
  await search(page, 'dog');
  await expect(page.locator('.list li')).toHaveCount(0);
  await expect(page.locator('#semantic-status')).toContainText('Search finds words only');

  await go(page, 'Models');
  const item = page.locator('li.model', { hasText: 'cairn-test-tiny-topics' });
  await expect(item).toContainText('Licence');
  await item.getByRole('button', { name: /Install/ }).click();
  await expect(item.locator('.state')).toHaveText('installed', { timeout: 60_000 });

  await saveDraft(page, 'Beach sunset with friends', '#summer');
  await saveDraft(page, 'Quarterly tax filing was due for the year at the office');
  await saveDraft(page, 'Rainy city night at the street cafe');

  // Full text alone finds nothing for these words; meaning finds the beach draft, only it.
  await search(page, 'ocean waves at dusk');
  const hits = page.locator('.list li');
  await expect(hits).toHaveCount(1);
  await expect(hits.first()).toContainText('Beach sunset with friends');
  await expect(hits.first()).toContainText('by meaning');
  await expect(page.locator('#semantic-status')).toContainText(
    /Search by meaning is on \(cairn-test-tiny-topics, wasm-int8 on wasm; [\d.]+ ms per draft, search [\d.]+ ms on this device\)/,
  );
  console.log(`semantic status: ${await page.locator('#semantic-status').textContent()}`);
  await shot(page, 'drafts-semantic-search');

  // The draft saved before the pack was installed got its vector too.
  await search(page, 'dog');
  await expect(hits).toHaveCount(1);
  await expect(hits.first()).toContainText('Puppy and cat nap');
  await expect(hits.first()).toContainText('by meaning');
  // Words still work, and a draft found both ways says so.
  await search(page, 'tax');
  await expect(hits).toHaveCount(1);
  await expect(hits.first()).toContainText('by words and meaning');

  // Editing a draft's text gives it a new vector: the tax draft becomes a beach one.
  await hits.first().getByRole('link').click();
  await expect(page.locator('#caption-text')).toHaveValue(/Quarterly tax/);
  await page.locator('#caption-text').fill('Surf lesson then sand castles');
  await page.getByRole('button', { name: 'Save as draft' }).click();
  await expect(page.getByText(/^Saved \(draft \d+, version 2\)\.$/)).toBeVisible();
  await search(page, 'ocean waves at dusk');
  await expect(hits).toHaveCount(2);
  await expect(page.locator('.list')).toContainText('Surf lesson then sand castles');
  await expect(page.locator('.list')).not.toContainText('Quarterly');

  // Hashtag suggestions: nearest vocabulary words the caption lacks, as chips that add them.
  await go(page, 'Compose');
  await page.getByRole('button', { name: 'Write a caption yourself' }).click();
  await page.locator('#caption-text').fill('My dog on the beach at sunset');
  const chips = page.locator('#hashtag-suggestions button.chip');
  await expect(chips.first()).toBeVisible();
  const offered = await chips.allTextContents();
  expect(offered.length).toBeGreaterThan(2);
  for (const tag of offered) expect(tag).toMatch(/^#[a-z]+$/);
  expect(offered).not.toContain('#beach'); // the caption has it
  expect(offered).not.toContain('#tax');
  expect(['#sand', '#waves', '#sea']).toContain(offered[0]);
  await chips.first().click();
  await expect(page.locator('#caption-hashtags')).toHaveValue(offered[0]!);
  await expect(chips.filter({ hasText: offered[0]! })).toHaveCount(0); // not offered twice
  await shot(page, 'compose-hashtag-suggestions');
});
