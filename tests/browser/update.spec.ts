// The update flow: a new build on the server → the new service worker installs and waits → the
// banner offers "Reload" → it takes over and the page shows the new version.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { controlled, expect, test } from './fixtures';
import { APP_DIR, startServer } from './server';

// Makes `dir` the next version: a changed index.html, and the service worker's precache
// revision for it updated (what a rebuild does to these two files).
function publishNextVersion(dir: string): void {
  const rev = (data: Buffer | string) =>
    createHash('sha256').update(data).digest('hex').slice(0, 16);
  const html = fs.readFileSync(join(dir, 'index.html'), 'utf8');
  const next = html.replace(
    '<title>Cairn</title>',
    '<meta name="cairn-test-version" content="2"><title>Cairn</title>',
  );
  const sw = fs.readFileSync(join(dir, 'sw.js'), 'utf8');
  expect(sw.split(`"${rev(html)}"`).length, "index.html's revision appears once in sw.js").toBe(2);
  fs.writeFileSync(join(dir, 'index.html'), next);
  fs.writeFileSync(join(dir, 'sw.js'), sw.replace(`"${rev(html)}"`, `"${rev(next)}"`));
}

test('a new version shows the banner, and Reload switches to it', async ({ page, shot }) => {
  const app = fs.mkdtempSync(join(os.tmpdir(), 'cairn-app-'));
  fs.cpSync(APP_DIR, app, { recursive: true });
  const models = fs.mkdtempSync(join(os.tmpdir(), 'cairn-models-'));
  const server = await startServer({ app, models });
  try {
    await page.goto(`${server.url}/`);
    await controlled(page);
    await expect(page.locator('#update')).toBeHidden();
    publishNextVersion(app);
    await page.reload(); // the navigation makes the browser check sw.js
    await expect(page.locator('#update')).toBeVisible();
    await expect(page.locator('#update')).toContainText('A new version of Cairn is ready.');
    await expect(page.locator('meta[name="cairn-test-version"]')).toHaveCount(0); // still the old one
    await shot(page, 'update-banner');
    await page.getByRole('button', { name: 'Reload' }).click();
    await expect(page.locator('meta[name="cairn-test-version"]')).toHaveCount(1);
    await expect(page.locator('#update')).toBeHidden();
  } finally {
    await server.stop();
    fs.rmSync(app, { recursive: true, force: true });
    fs.rmSync(models, { recursive: true, force: true });
  }
});
