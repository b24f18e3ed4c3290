// The vault's life in the browser beyond the passphrase: a vault opened by this device's key (a
// non-extractable WebCrypto key), one whose database file was damaged in OPFS, one the browser
// removed, and the storage it takes. Each ends on a screen that says what happened, never a
// blank app. Needs the core worker (the wasm core).
import type { BrowserContext, Page } from '@playwright/test';
import { buildInfo } from './build_info';
import { controlled, expect, test } from './fixtures';

const PASSPHRASE = 'correct horse battery staple';

test.skip(() => buildInfo().coreWorker === null, 'build/pwa has no core worker yet');

async function createVault(page: Page, deviceOnly: boolean): Promise<void> {
  await page.goto('/');
  await controlled(page);
  await expect(page.locator('body')).toHaveAttribute('data-screen', 'first-run');
  if (deviceOnly) {
    await page.getByLabel('This device only (no passphrase)').check();
    await expect(page.getByLabel('Passphrase', { exact: true })).toBeHidden();
  } else {
    await page.getByLabel('Passphrase', { exact: true }).fill(PASSPHRASE);
    await page.getByLabel('Passphrase again').fill(PASSPHRASE);
  }
  await page.getByRole('button', { name: 'Create vault' }).click();
  await expect(page.locator('body')).toHaveAttribute('data-screen', 'compose');
}

/** Installs the tiny test model, generates offline-capable captions and saves the first as a
 * draft with `marker` in it. */
async function saveDraft(page: Page, marker: string): Promise<void> {
  await page.getByRole('navigation').getByRole('link', { name: 'Models' }).click();
  const item = page.locator('li.model', { hasText: 'cairn-test-tiny-llama' });
  await item.getByRole('button', { name: /Install|Retry/ }).click();
  await expect(item.locator('.state')).toHaveText('installed', { timeout: 60_000 });
  await page.getByRole('navigation').getByRole('link', { name: 'Compose' }).click();
  await page.getByLabel('Context').fill('pier at sunset');
  await page.getByLabel('How many captions').fill('1');
  await page.getByLabel(/^ ?Low/).check();
  await page.getByRole('button', { name: 'Generate captions' }).click();
  await expect(page.locator('.provenance')).toContainText('ort-web-', { timeout: 60_000 });
  await page.locator('input[name=caption-choice]').first().check();
  await page.locator('#caption-text').fill(marker);
  await page.getByRole('button', { name: 'Save as draft' }).click();
  await expect(page.getByText(/^Saved \(draft \d+, version 1\)\.$/)).toBeVisible();
}

/** Runs `body` in a page of the app's origin whose core worker never starts, so nothing holds
 * the OPFS files (a worker's sync access handles lock them) and the test can change them as a
 * failing disk or the browser's eviction would. */
async function withCoreStopped<T>(
  context: BrowserContext,
  body: (page: Page) => Promise<T>,
): Promise<T> {
  const page = await context.newPage();
  await page.addInitScript(() => {
    (window as unknown as { Worker: unknown }).Worker = class {
      constructor() {
        throw new Error('the test keeps the core worker stopped');
      }
    };
  });
  await page.goto('/');
  await expect(page.locator('body')).toHaveAttribute('data-screen', 'recovery');
  try {
    return await body(page);
  } finally {
    await page.close();
  }
}

/** The vault's files in OPFS as the pool's slot headers name them (pwa/src/worker/opfs_pool.ts:
 * a 4 KiB header "CSLT", length, path; then the content); `corrupt` is overwritten with random
 * bytes (its first 64 KiB: page 1 onwards). */
function opfsFiles(page: Page, corrupt: string | null): Promise<{ path: string; bytes: number }[]> {
  return page.evaluate(async (corrupt) => {
    const HEADER = 4096;
    const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle('cairn');
    const files: { path: string; bytes: number }[] = [];
    const entries = (dir as unknown as { values(): AsyncIterable<FileSystemFileHandle> }).values();
    for await (const handle of entries) {
      const file = await handle.getFile();
      if (file.size < HEADER) continue;
      const head = new DataView(await file.slice(0, 8).arrayBuffer());
      if (head.getUint32(0, true) !== 0x544c5343) continue;
      const len = head.getUint32(4, true);
      const path = await file.slice(8, 8 + len).text();
      if (!path) continue;
      files.push({ path, bytes: file.size - HEADER });
      if (path === corrupt) {
        const garbage = crypto.getRandomValues(new Uint8Array(Math.min(file.size - HEADER, 65536)));
        const w = await handle.createWritable({ keepExistingData: true });
        await w.write({ type: 'write', position: HEADER, data: garbage });
        await w.close();
      }
    }
    return files.sort((a, b) => a.path.localeCompare(b.path));
  }, corrupt);
}

test('a vault for this device only opens after a restart without a passphrase', async ({
  page,
  profile,
  shot,
}) => {
  await page.goto('/');
  await controlled(page);
  await expect(page.getByText('Anyone who can use this browser profile can open it')).toBeVisible();
  await shot(page, 'first-run-unlock-choice');
  await createVault(page, true);
  await saveDraft(page, 'kept by this device');

  // IndexedDB holds the wrapping key as a CryptoKey that cannot be exported, and the device
  // key only wrapped: 32 bytes + the 16-byte AES-GCM tag, under a 12-byte IV.
  const record = await page.evaluate(
    () =>
      new Promise<Record<string, unknown>>((resolve, reject) => {
        const open = indexedDB.open('cairn-device-key');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const get = open.result.transaction('keys').objectStore('keys').get('vault');
          get.onerror = () => reject(get.error);
          get.onsuccess = async () => {
            const r = get.result as {
              wrappingKey: CryptoKey;
              iv: Uint8Array;
              wrapped: ArrayBuffer;
            };
            let exported = 'refused';
            try {
              await crypto.subtle.exportKey('raw', r.wrappingKey);
              exported = 'exported';
            } catch (e) {
              exported = `refused: ${(e as Error).name}`;
            }
            resolve({
              isCryptoKey: r.wrappingKey instanceof CryptoKey,
              extractable: r.wrappingKey.extractable,
              algorithm: (r.wrappingKey.algorithm as AesKeyAlgorithm).name,
              usages: [...r.wrappingKey.usages].sort(),
              ivBytes: r.iv.byteLength,
              wrappedBytes: r.wrapped.byteLength,
              exported,
            });
          };
        };
      }),
  );
  expect(record).toEqual({
    isCryptoKey: true,
    extractable: false,
    algorithm: 'AES-GCM',
    usages: ['decrypt', 'encrypt'],
    ivBytes: 12,
    wrappedBytes: 48,
    exported: 'refused: InvalidAccessError',
  });

  await profile.restart();
  const p = profile.page;
  await p.goto('/');
  // No unlock screen: the vault opens with the browser's key.
  await expect(p.locator('body')).toHaveAttribute('data-screen', 'compose');
  await p.getByRole('navigation').getByRole('link', { name: 'Drafts' }).click();
  await expect(p.getByText('kept by this device')).toBeVisible();
});

test('a device-key vault whose key the browser lost says so and offers a new vault', async ({
  page,
  profile,
  shot,
}) => {
  await createVault(page, true);
  await profile.restart();
  await withCoreStopped(profile.context, (q) =>
    q.evaluate(
      () =>
        new Promise((ok) => {
          indexedDB.deleteDatabase('cairn-device-key').onsuccess = ok;
        }),
    ),
  );
  const p = profile.page;
  await p.goto('/');
  await expect(p.locator('body')).toHaveAttribute('data-screen', 'recovery');
  await expect(p.getByRole('heading', { level: 2 })).toHaveText(
    'This browser cannot open your vault',
  );
  await expect(p.locator('.detail')).toContainText('no device key');
  await shot(p, 'recovery-key-lost');
  await p.getByLabel('Type DELETE to confirm').fill('DELETE');
  await p.getByRole('button', { name: 'Delete the vault and start again' }).click();
  await expect(p.locator('body')).toHaveAttribute('data-screen', 'first-run');
});

test('a corrupt vault database leads to a recovery screen naming the damage', async ({
  page,
  profile,
  shot,
}) => {
  await createVault(page, false);
  await profile.restart();
  const files = await withCoreStopped(profile.context, (q) => opfsFiles(q, '/vault/vault.db'));
  expect(files.map((f) => f.path)).toContain('/vault/vault.key');
  expect(files.find((f) => f.path === '/vault/vault.db')?.bytes).toBeGreaterThan(0);

  const p = profile.page;
  await p.goto('/');
  await expect(p.locator('body')).toHaveAttribute('data-screen', 'unlock');
  await p.getByLabel('Passphrase').fill(PASSPHRASE);
  await p.getByRole('button', { name: 'Unlock' }).click();
  await expect(p.locator('body')).toHaveAttribute('data-screen', 'recovery');
  await expect(p.getByRole('heading', { level: 2 })).toHaveText('Your vault could not be read');
  // What the core found, in its words: the file and the page that failed to authenticate.
  await expect(p.locator('.detail')).toContainText(
    /vault\.db \(database\) page \d+: authentication failed/,
  );
  await expect(p.getByRole('button', { name: 'Try again' })).toBeVisible();
  await expect(p.getByRole('navigation')).toBeHidden();
  await shot(p, 'recovery-corrupt');

  // Starting over needs the confirmation, then gives a fresh first run.
  await p.getByRole('button', { name: 'Delete the vault and start again' }).click();
  await expect(p.getByRole('alert')).toHaveText('Type DELETE in capitals to confirm.');
  await p.getByLabel('Type DELETE to confirm').fill('DELETE');
  await p.getByRole('button', { name: 'Delete the vault and start again' }).click();
  await expect(p.locator('body')).toHaveAttribute('data-screen', 'first-run');
  await p.getByLabel('Passphrase', { exact: true }).fill(PASSPHRASE);
  await p.getByLabel('Passphrase again').fill(PASSPHRASE);
  await p.getByRole('button', { name: 'Create vault' }).click();
  await expect(p.locator('body')).toHaveAttribute('data-screen', 'compose');
});

test('a vault the browser removed leads to a recovery screen that offers to start over', async ({
  page,
  profile,
  shot,
}) => {
  await createVault(page, false);
  await profile.restart();
  // Eviction: the browser deletes the origin's OPFS data; the app's record that it made a vault
  // here (localStorage) stays.
  await withCoreStopped(profile.context, (q) =>
    q.evaluate(async () => {
      await (await navigator.storage.getDirectory()).removeEntry('cairn', { recursive: true });
    }),
  );
  const p = profile.page;
  await p.goto('/');
  await expect(p.locator('body')).toHaveAttribute('data-screen', 'recovery');
  await expect(p.getByRole('heading', { level: 2 })).toHaveText('Your vault is missing');
  await expect(p.getByText(/Browsers may clear a site's storage/)).toBeVisible();
  await shot(p, 'recovery-evicted');
  await p.getByRole('button', { name: 'Make a new vault' }).click();
  await expect(p.locator('body')).toHaveAttribute('data-screen', 'first-run');
});

test('the models screen shows storage use, the vault share and persistence', async ({ page }) => {
  await createVault(page, false);
  await page.getByRole('navigation').getByRole('link', { name: 'Models' }).click();
  const panel = page.locator('.panel.storage');
  await expect(panel.locator('.usage')).toHaveText(
    /^Cairn uses .+ of the .+ this browser allows \(\d+ %\)\.$/,
  );
  // The worker's storage.info counts the vault's OPFS files (key file and database at least).
  await expect(panel.locator('.vault-bytes')).toHaveText(
    /^Your vault \(drafts, photos and models, encrypted\): \d+(\.\d+)? kB\.$/,
  );
  const info = await page.evaluate(async () => ({
    persisted: await navigator.storage.persisted(),
  }));
  await expect(panel.locator('.persisted')).toHaveText(
    info.persisted ? /^Kept:/ : /^Not yet kept:/,
  );
});
