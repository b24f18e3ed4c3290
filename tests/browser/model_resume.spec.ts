// A model download cut off part way goes on after a reload from its last checkpoint. The server's
// copy of the file is first cut short (the download stops at 70 %), then, after the reload, put
// back with its first 70 % overwritten: only a download that asks for the rest (an HTTP Range
// request from the checkpoint) can assemble a file that passes the signed manifest's checks.
import * as fs from 'node:fs';
import { join } from 'node:path';
import { createVault, installModel, unlock } from './app_steps';
import { expect, test } from './fixtures';

const PACK = 'cairn-test-tiny-llama';

test('an interrupted model download resumes after a reload from where it stopped', async ({
  page,
}) => {
  const served = join(process.env['CAIRN_TEST_MODELS']!, 'tiny-llama', 'model.onnx');
  const original = fs.readFileSync(served);
  const cut = Math.floor(original.length * 0.7);
  expect(cut).toBeGreaterThan(64 * 1024); // a checkpoint keeps whole 64 KiB chunks and a tail
  try {
    await createVault(page);
    fs.writeFileSync(served, original.subarray(0, cut));
    await installModel(page, PACK);
    const item = page.locator('li.model', { hasText: PACK });
    // It stops at the cut (the retries from there are refused: the file ends there) and says so.
    await expect(item.locator('.progress-text')).toContainText('Download stopped', { timeout: 40_000 });
    await expect(item.locator('.progress-text')).toContainText('It resumes where it stopped');

    await page.reload();
    const prefixLost = Buffer.from(original);
    prefixLost.fill(0, 0, cut);
    fs.writeFileSync(served, prefixLost);
    await unlock(page, 'models'); // back where the creator was
    await expect(item.locator('.state')).not.toHaveText('installed');
    await installModel(page, PACK);
    await expect(item.locator('.state')).toHaveText('installed', { timeout: 60_000 });
    await expect(item.locator('.progress-text')).toContainText('verified against its signed manifest');
  } finally {
    fs.writeFileSync(served, original); // the other specs share the server's models
  }
});
