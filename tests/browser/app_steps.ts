// Steps through the app's own screens that several specs share: create the vault, unlock it,
// move between screens. Each waits for the screen it leads to, so a step that goes wrong fails
// where it went wrong.
import type { Page } from '@playwright/test';
import { controlled, expect } from './fixtures';

export const PASSPHRASE = 'correct horse battery staple';

/** First run on a fresh profile: a passphrase vault, landing on Compose. */
export async function createVault(page: Page): Promise<void> {
  await page.goto('/');
  await controlled(page);
  await expect(page.locator('body')).toHaveAttribute('data-screen', 'first-run');
  await page.getByLabel('Passphrase', { exact: true }).fill(PASSPHRASE);
  await page.getByLabel('Passphrase again').fill(PASSPHRASE);
  await page.getByRole('button', { name: 'Create vault' }).click();
  await expect(page.locator('body')).toHaveAttribute('data-screen', 'compose');
}

/** Unlocks, landing where the creator was going (`screen`). */
export async function unlock(page: Page, screen = 'compose'): Promise<void> {
  await expect(page.locator('body')).toHaveAttribute('data-screen', 'unlock');
  await page.getByLabel('Passphrase').fill(PASSPHRASE);
  await page.getByRole('button', { name: 'Unlock' }).click();
  await expect(page.locator('body')).toHaveAttribute('data-screen', screen);
}

export type Screen = 'Compose' | 'Drafts' | 'Models';

/** Opens a screen from the navigation. */
export async function go(page: Page, name: Screen): Promise<void> {
  await page.getByRole('navigation').getByRole('link', { name }).click();
  await expect(page.locator('#screen-title')).toHaveText(name);
}

/** Opens Models and starts installing `id` (its size and licence are shown before any download). */
export async function installModel(page: Page, id: string): Promise<void> {
  await go(page, 'Models');
  const item = page.locator('li.model', { hasText: id });
  await expect(item).toBeVisible();
  await expect(item).toContainText('Licence');
  await expect(item).toContainText('commercial use');
  await item.getByRole('button', { name: /Install|Retry/ }).click();
}
