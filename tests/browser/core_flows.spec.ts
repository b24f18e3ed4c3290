// The app end to end with the real core: the wasm vault on OPFS, verified model downloads, and
// captions from ONNX Runtime Web while the browser is offline — then the draft survives an
// offline reload and a browser restart. Also: a tampered model is refused, and WebNN asked for
// but unavailable falls back with the backend that ran in the provenance.
import type { Page } from '@playwright/test';
import { createVault, installModel as install, unlock } from './app_steps';
import { expect, test } from './fixtures';

async function generate(page: Page, runOn?: string): Promise<void> {
  await page.getByRole('navigation').getByRole('link', { name: 'Compose' }).click();
  await page.getByLabel('Context').fill('pier at sunset; sea, sky, summer');
  await page.getByLabel('Style').fill('warm, short');
  await page.getByLabel('How many captions').fill('2');
  await page.getByLabel(/^ ?Low/).check();
  if (runOn) await page.getByLabel('Run on').selectOption(runOn);
  await page.getByRole('button', { name: 'Generate captions' }).click();
  await expect(page.locator('.provenance')).toContainText('ort-web-', { timeout: 60_000 });
}

test('offline drafting end to end: install, generate offline, save, reload, restart', async ({
  page,
  profile,
  network,
  shot,
}) => {
  await createVault(page);
  await install(page, 'cairn-test-tiny-llama');
  const item = page.locator('li.model', { hasText: 'cairn-test-tiny-llama' });
  // Progress in bytes and %, then installed.
  await expect(item.locator('.state')).toHaveText('installed', { timeout: 60_000 });
  await expect(item.locator('.progress-text')).toHaveText(
    /^\d+(\.\d+)? kB of \d+(\.\d+)? kB \(100 %\): verified against its signed manifest\.$/,
  );
  await shot(page, 'models-installed');

  await network.offline();
  await generate(page);
  const provenance = await page.locator('.provenance').textContent();
  expect(provenance).toContain('cairn-test-tiny-llama');
  expect(provenance).toContain('ort-web-wasm');
  expect(provenance).toContain('fp32');
  const first = page.locator('input[name=caption-choice]').first();
  await first.check();
  const text = (await page.locator('#caption-text').inputValue()).trim();
  // Whatever the random test weights say, it is shown as text, never parsed as HTML.
  // Markup in a caption (model output or the creator's edit) stays text everywhere it is shown.
  const hostile = '<img src=x onerror="document.body.dataset.pwned=1">';
  await page.locator('#caption-text').fill(`${text} offline draft ${hostile}`.trim());
  await page.getByRole('button', { name: 'Save as draft' }).click();
  await expect(page.getByText(/^Saved \(draft \d+, version 1\)\.$/)).toBeVisible();
  await shot(page, 'compose-captions');

  // Reload while still offline: the service worker serves the app, the vault is on OPFS.
  await page.reload();
  await unlock(page);
  await page.getByRole('navigation').getByRole('link', { name: 'Drafts' }).click();
  await expect(page.getByText('offline draft')).toBeVisible();
  await expect(page.getByText(hostile)).toBeVisible();
  await expect(page.locator('main img[src=x]')).toHaveCount(0);
  await expect(page.locator('body')).not.toHaveAttribute('data-pwned', '1');
  await shot(page, 'drafts-offline');

  await network.online();
  await profile.restart();
  const p = profile.page;
  await p.goto('/');
  await unlock(p);
  await p.getByRole('navigation').getByRole('link', { name: 'Drafts' }).click();
  await expect(p.getByText('offline draft')).toBeVisible();
  // The model stayed installed (encrypted in the vault's blob store) across the restart.
  await p.getByRole('navigation').getByRole('link', { name: 'Models' }).click();
  await expect(p.locator('li.model', { hasText: 'cairn-test-tiny-llama' }).locator('.state')).toHaveText(
    'installed',
  );
});

test('a tampered model file is refused with a clear message and nothing is installed', async ({
  page,
}) => {
  await createVault(page);
  await install(page, 'cairn-test-tampered');
  const item = page.locator('li.model', { hasText: 'cairn-test-tampered' });
  await expect(item.locator('.progress-text')).toContainText('signed manifest', { timeout: 60_000 });
  await expect(item.locator('.progress-text')).toContainText('model.onnx');
  await page.getByRole('navigation').getByRole('link', { name: 'Compose' }).click();
  await page.getByRole('button', { name: 'Generate captions' }).click();
  await expect(page.getByText('No caption model is installed yet')).toBeVisible();
});

test('WebNN asked for but unavailable falls back, and provenance names what ran', async ({
  page,
}) => {
  await createVault(page);
  await install(page, 'cairn-test-tiny-llama');
  await expect(
    page.locator('li.model', { hasText: 'cairn-test-tiny-llama' }).locator('.state'),
  ).toHaveText('installed', { timeout: 60_000 });
  await generate(page, 'webnn');
  const provenance = page.locator('.provenance');
  await expect(provenance).toContainText('on ort-web-wasm');
  await expect(provenance).toContainText('webnn was not usable');
});

test('an HQ export asked for offline is sent on reconnection, rendered and stored with provenance', async ({
  page,
  network,
  serverUrl,
  shot,
}) => {
  await createVault(page);
  await install(page, 'cairn-test-tiny-llama');
  await expect(
    page.locator('li.model', { hasText: 'cairn-test-tiny-llama' }).locator('.state'),
  ).toHaveText('installed', { timeout: 60_000 });
  await network.offline();
  await generate(page);
  await page.locator('input[name=caption-choice]').first().check();
  await page.getByRole('button', { name: 'Save as draft' }).click();
  const savedLine = page.getByText(/^Saved \(draft \d+, version 1\)\.$/);
  await expect(savedLine).toBeVisible();
  const draftId = /draft (\d+)/.exec((await savedLine.textContent()) ?? '')![1];
  await page.getByRole('button', { name: /HQ/ }).click();
  await expect(page.locator('body')).toHaveAttribute('data-screen', 'jobs');
  const job = page.locator('li.job').first();
  await expect(job.locator('.state')).toHaveText(/waiting for a connection|Sending/);
  // The job keeps the draft it came from (on the device; the server's payload has no such field).
  await expect(job.locator('.draft-link')).toHaveText(`draft ${draftId}`);
  await shot(page, 'jobs-queued-offline');

  // The result should come back while the creator is elsewhere: notifications allowed, and the
  // page hidden. Test double: headless Chromium never hides a page, so document.visibilityState
  // is overridden to stand in for the app in the background.
  await page.context().grantPermissions(['notifications']);
  await page.evaluate(() =>
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' }),
  );

  // A real reconnection: the app's engine registers the device and sends the signed job; the
  // server's render worker renders it; the engine follows the changes feed and fetches the
  // result into the vault's outbox.
  await network.online();
  await expect(job.locator('.state')).toHaveText('Done', { timeout: 90_000 });
  await expect(job.locator('.hq-captions li').first()).toBeVisible();
  await expect(job.locator('.provenance')).toHaveText(
    /^cairn-test-tiny-llama \S+ \(fp32\) on ort-native-cpu, cloud, final$/,
  );
  await shot(page, 'jobs-done');

  // The notification the service worker showed, for this job.
  const jobId = Number(/^job-(\d+)$/.exec((await job.getAttribute('id')) ?? '')?.[1]);
  expect(Number.isInteger(jobId)).toBe(true);
  const shown = () =>
    page.evaluate(async () =>
      (await (await navigator.serviceWorker.ready).getNotifications()).map((n) => ({
        title: n.title,
        tag: n.tag,
        jobId: (n.data as { jobId?: number } | null)?.jobId,
      })),
    );
  await expect.poll(shown).toEqual([{ title: 'Cairn: HQ export ready', tag: `job-${jobId}`, jobId }]);

  // Clicking it opens the job from another screen. Test double: no protocol clicks a
  // notification, so the service worker is handed a notificationclick event for the notification
  // it showed (an untrusted event may not waitUntil; the handler's work starts before that call).
  await page.evaluate(() => (location.hash = '#/drafts'));
  await expect(page.locator('body')).toHaveAttribute('data-screen', 'drafts');
  const [worker] = page.context().serviceWorkers();
  expect(worker).toBeDefined();
  await worker!.evaluate(async () => {
    type NotificationEventInit = { notification: Notification };
    const sw = self as unknown as {
      registration: ServiceWorkerRegistration;
      dispatchEvent(event: Event): boolean;
      NotificationEvent: new (type: string, init: NotificationEventInit) => Event;
    };
    const [n] = await sw.registration.getNotifications();
    try {
      sw.dispatchEvent(new sw.NotificationEvent('notificationclick', { notification: n! }));
    } catch {
      // waitUntil on an untrusted event; see above
    }
  });
  await expect(page.locator('body')).toHaveAttribute('data-screen', 'jobs');
  await expect(page.locator(`li.job#job-${jobId}`)).toHaveAttribute('aria-current', 'true');
  await expect.poll(shown).toEqual([]);  // closed by the click

  // Stored, not just shown: after a reload the result comes back from the vault.
  await page.reload();
  await unlock(page, 'jobs');
  await expect(page.locator('li.job').first().locator('.state')).toHaveText('Done');
  await expect(page.locator('li.job .hq-captions li').first()).toBeVisible();
  void serverUrl;
});
