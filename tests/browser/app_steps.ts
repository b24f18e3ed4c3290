// Steps through the app's own screens that several specs share: create the vault, unlock it,
// move between screens. Each waits for the screen it leads to, so a step that goes wrong fails
// where it went wrong.
import type { Page } from '@playwright/test';
import * as zlib from 'node:zlib';
import { controlled, expect } from './fixtures';

export const PASSPHRASE = 'correct horse battery staple';

/** First run on a fresh profile: a passphrase vault, landing on Compose. `base`: another
 * server's origin than the shared one. */
export async function createVault(page: Page, base = ''): Promise<void> {
  await page.goto(`${base}/`);
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

export type Screen = 'Compose' | 'Drafts' | 'Assets' | 'Models';

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

/** A w×h PNG of one colour (RGB), encoded here: no image files in the repository. */
export function png(w: number, h: number, rgb: [number, number, number]): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (b: Buffer): number => {
    let c = 0xffffffff;
    for (const x of b) c = crcTable[(c ^ x) & 0xff]! ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer): Buffer => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const c = Buffer.alloc(4);
    c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  const row = Buffer.concat([Buffer.from([0]), Buffer.from(Array.from({ length: w }, () => rgb).flat())]);
  const raw = Buffer.concat(Array.from({ length: h }, () => row));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
