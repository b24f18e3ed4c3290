// Fast preview (DESIGN.md, issue #8's models screen): the worker times every preview (one Low
// caption) on this device, the models screen shows its p50/p95, and only when p95 is under
// 400 ms does compose offer to preview a caption as the creator types.
import { createVault, go, installModel } from './app_steps';
import { expect, test } from './fixtures';

test('previews are timed here, and compose offers live preview only under 400 ms at p95', async ({
  page,
  shot,
}) => {
  await createVault(page);
  await installModel(page, 'cairn-test-tiny-llama');
  const item = page.locator('li.model', { hasText: 'cairn-test-tiny-llama' });
  await expect(item.locator('.state')).toHaveText('installed', { timeout: 60_000 });
  await expect(item.locator('.preview-latency')).toHaveText(/^not measured yet/);
  await expect(item.locator('.fast-preview-off')).toBeVisible();

  // The first generation also times one preview of a fixed prompt (a short Low caption).
  await go(page, 'Compose');
  const toggle = page.getByLabel(/Preview a caption as I type/);
  await expect(toggle).toBeHidden(); // nothing measured yet
  await page.getByLabel('Context').fill('pier at sunset; sea, sky, summer');
  await page.getByLabel('How many captions').fill('3');
  await page.getByRole('button', { name: 'Generate captions' }).click();
  await expect(page.locator('.provenance')).toContainText('ort-web-', { timeout: 60_000 });
  await go(page, 'Models');
  const figure = (await item.locator('.preview-latency').textContent()) ?? '';
  const m = /^p50 ([\d.]+) ms, p95 ([\d.]+) ms over 1 run$/.exec(figure);
  expect(m, figure).not.toBeNull();
  const p95 = Number(m![2]);
  console.log(`cairn-test-tiny-llama preview on this machine: ${figure}`);
  await shot(page, 'models-preview-latency');

  if (p95 >= 400) {
    // A slow machine: nothing is offered, and the screen says why.
    await expect(item.locator('.fast-preview-off')).toBeVisible();
    await expect(item.locator('.badge')).toHaveCount(0);
    await go(page, 'Compose');
    await expect(toggle).toBeHidden();
    test.info().annotations.push({ type: 'slow', description: `preview p95 ${p95} ms` });
    return;
  }
  await expect(item.locator('.badge')).toHaveText(/Fast preview on/);
  await go(page, 'Compose');
  await expect(toggle).toBeVisible();
  await toggle.check();
  const preview = page.locator('.live-preview');
  await expect(preview).not.toBeEmpty({ timeout: 30_000 });
  // Typing asks for a new one: the text changes once the model has written it (a new seed each).
  const before = await preview.textContent();
  await page.getByLabel('Context').fill('mountain lake at dawn; mist, pines, quiet');
  await expect(preview).not.toHaveText(before ?? '', { timeout: 30_000 });
  // Model output as text only: no element came out of it.
  await expect(preview.locator('*')).toHaveCount(0);
  await shot(page, 'compose-fast-preview');
  // The live previews were timed too.
  await go(page, 'Models');
  await expect(item.locator('.preview-latency')).toHaveText(/over ([2-9]|\d\d) runs$/);
});
