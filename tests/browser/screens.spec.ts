// Every screen with the real core: first run, compose, drafts, jobs, models, then a browser
// restart on the same profile → unlock (a wrong passphrase first) — with a screenshot of each.
// Needs the core worker (the wasm core); skipped, saying so, while the build has none.
import { buildInfo } from './build_info';
import { controlled, expect, test } from './fixtures';
import { share } from './share_target';

const PASSPHRASE = 'correct horse battery staple';

test('the screens, from first run to unlock after a restart', async ({ page, profile, shot }) => {
  test.skip(
    buildInfo().coreWorker === null,
    'build/pwa has no core worker yet (pwa/src/worker/core_worker.ts)',
  );
  await page.goto('/');
  await controlled(page);
  await expect(page.locator('body')).toHaveAttribute('data-screen', 'first-run');
  await expect(page.getByText(/Cairn uses .* of the .* this browser allows/)).toBeVisible();
  await shot(page, 'first-run');
  await page.getByLabel('Passphrase', { exact: true }).fill('short');
  await page.getByRole('button', { name: 'Create vault' }).click();
  await expect(page.getByRole('alert')).toContainText('at least 8 characters');
  await page.getByLabel('Passphrase', { exact: true }).fill(PASSPHRASE);
  await page.getByLabel('Passphrase again').fill(PASSPHRASE);
  await page.getByRole('button', { name: 'Create vault' }).click();
  await expect(page.locator('body')).toHaveAttribute('data-screen', 'compose');
  await expect(page.getByLabel('Task')).toBeVisible();
  await expect(page.getByRole('group', { name: 'Quality' })).toBeVisible();
  await shot(page, 'compose');
  // A photo shared from the gallery opens in compose (after unlocking, if the new page's core
  // starts locked).
  await share(page, true);
  if ((await page.locator('body').getAttribute('data-screen')) === 'unlock') {
    await page.getByLabel('Passphrase').fill(PASSPHRASE);
    await page.getByRole('button', { name: 'Unlock' }).click();
  }
  await expect(page.locator('body')).toHaveAttribute('data-screen', 'compose');
  await expect(page.locator('.photo-name')).toHaveText('beach.png');
  await expect(page.locator('img.preview')).toBeVisible();
  for (const [link, screen] of [
    ['Drafts', 'drafts'],
    ['Exports', 'jobs'],
    ['Assets', 'assets'],
    ['Models', 'models'],
  ] as const) {
    await page.getByRole('navigation').getByRole('link', { name: link }).click();
    await expect(page.locator('body')).toHaveAttribute('data-screen', screen);
    await expect(page.locator('.hint').first()).not.toHaveText('Loading…');
    await shot(page, screen);
  }

  await profile.restart();
  const p = profile.page;
  await p.goto('/');
  await expect(p.locator('body')).toHaveAttribute('data-screen', 'unlock');
  await shot(p, 'unlock');
  await p.getByLabel('Passphrase').fill('not the passphrase');
  await p.getByRole('button', { name: 'Unlock' }).click();
  await expect(p.getByRole('alert')).toHaveText(/does not open this vault/);
  await expect(p.getByLabel('Passphrase')).toHaveAttribute('aria-invalid', 'true');
  await shot(p, 'unlock-wrong-passphrase');
  await p.getByLabel('Passphrase').fill(PASSPHRASE);
  await p.getByRole('button', { name: 'Unlock' }).click();
  await expect(p.locator('body')).toHaveAttribute('data-screen', 'compose');
});
