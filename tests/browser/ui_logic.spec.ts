// The UI's decisions that need no core: which screen a vault state allows, hashtags in a caption,
// job progress labels, and numbers as shown. Run in Chromium (navigator.onLine, Unicode regexps).
import * as esbuild from 'esbuild';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures';

async function loadUi(page: Page): Promise<void> {
  const out = await esbuild.build({
    entryPoints: [join(__dirname, 'ui_logic_entry.ts')],
    bundle: true,
    write: false,
    format: 'iife',
    globalName: 'ui',
    target: 'es2022',
  });
  await page.goto('about:blank');
  await page.addScriptTag({ content: out.outputFiles[0]!.text });
}

test('the gate sends each vault state to its screen', async ({ page }) => {
  await loadUi(page);
  const routes = await page.evaluate(() => {
    const g = (window as any).ui.gate;
    const app = (vault: string, recovery: unknown = null) => ({ vault, recovery });
    return {
      absent: g(app('absent'), 'drafts'),
      locked: g(app('locked'), 'compose'),
      damaged: g(app('damaged'), 'compose'),
      unknown: g(app('unknown'), 'models'),
      unlockedDrafts: g(app('unlocked'), 'drafts'),
      unlockedUnlock: g(app('unlocked'), 'unlock'),
      recovering: g(app('unlocked', { kind: 'evicted' }), 'compose'),
    };
  });
  expect(routes).toEqual({
    absent: 'first-run',
    locked: 'unlock',
    damaged: 'recovery',
    unknown: 'recovery',
    unlockedDrafts: 'drafts',
    unlockedUnlock: 'compose',
    recovering: 'recovery',
  });
});

test('an unlock failure goes to the recovery it calls for, a typo stays on the unlock screen', async ({
  page,
}) => {
  await loadUi(page);
  const kinds = await page.evaluate(() => {
    const r = (window as any).ui.recoveryFor;
    const kind = (code: string, deviceKey: boolean) => r(code, 'why', deviceKey)?.kind ?? null;
    return {
      corrupt: kind('corruption', false),
      ioError: kind('io_error', true),
      wrongPassphrase: kind('wrong_passphrase', false),
      wrongDeviceKey: kind('wrong_passphrase', true),
      keyGone: kind('not_found', true),
      badArgument: kind('invalid_argument', false),
    };
  });
  expect(kinds).toEqual({
    corrupt: 'damaged',
    ioError: 'damaged',
    wrongPassphrase: null,
    wrongDeviceKey: 'key-lost',
    keyGone: 'key-lost',
    badArgument: null,
  });
});

test('hashtags come out of a caption once each, in any script', async ({ page }) => {
  await loadUi(page);
  const tags = await page.evaluate(() =>
    (window as any).ui.hashtagsOf('Sun #beach, #été #beach #東京 #dog_days! not#tag? # lone'),
  );
  expect(tags).toEqual(['#beach', '#été', '#東京', '#dog_days']);
});

test('jobs read queued → sent → done, and offline says it waits', async ({ page, network }) => {
  await loadUi(page);
  const step = (state: string) =>
    page.evaluate(
      (s) => (window as any).ui.jobStep({ state: s, lastError: 'render_failed' }),
      state,
    );
  expect(await step('queued')).toEqual({ step: 0, label: 'Queued, sending soon' });
  expect(await step('accepted')).toMatchObject({ step: 1 });
  expect(await step('running')).toMatchObject({ step: 1 });
  expect(await step('done')).toEqual({ step: 2, label: 'Done' });
  expect(await step('failed')).toEqual({ step: -1, label: 'Failed: render_failed' });
  await network.offline();
  expect(await step('queued')).toEqual({ step: 0, label: 'Queued, waiting for a connection' });
});

test('sizes and shares are shown as people read them', async ({ page }) => {
  await loadUi(page);
  const shown = await page.evaluate(() => {
    const { bytes, percent, ms } = (window as any).ui;
    return [
      bytes(0),
      bytes(999),
      bytes(5_739_005),
      bytes(22_050_922),
      bytes(1.5e9),
      percent(1, 3),
      percent(5, 0),
      percent(7, 5),
      ms(null),
      ms(3.14),
      ms(412.6),
    ];
  });
  expect(shown).toEqual([
    '0 B',
    '999 B',
    '5.7 MB',
    '22 MB',
    '1.5 GB',
    '33 %',
    '0 %',
    '100 %',
    '—',
    '3.1 ms',
    '413 ms',
  ]);
});

test('fast preview is offered only once measured, and only under 400 ms at p95', async ({ page }) => {
  await loadUi(page);
  const offered = await page.evaluate(() => {
    const { fastPreviewOffered } = (window as any).ui;
    return [null, 0, 120, 399.9, 400, 1052].map((p95) => fastPreviewOffered({ previewP95Ms: p95 }));
  });
  expect(offered).toEqual([false, true, true, true, false, false]);
});

test('an asset says what it is and what made it, as text rows', async ({ page }) => {
  await loadUi(page);
  const shown = await page.evaluate(() => {
    const { assetTitle, provenanceRows } = (window as any).ui;
    const base = {
      id: 7, mime: 'application/json', blobHash: 'a'.repeat(64), bytes: 1400, width: 0,
      height: 0, draftId: 3, jobId: 2, createdAtMs: 0, details: {},
    };
    const caption = {
      ...base, kind: 'caption-hq',
      provenance: {
        modelId: '<b>m</b>', modelVersion: '1.0.0', modelChecksum: 'c'.repeat(64),
        quantization: 'fp32', backend: 'ort-native-cpu', tier: 'cloud', preset: 'final', seed: 7,
      },
    };
    const photo = {
      ...base, kind: 'photo', mime: 'image/png', bytes: 179, width: 96, height: 64,
      provenance: { modelId: '', modelVersion: '', modelChecksum: '', quantization: '',
        backend: '', tier: '', preset: '', seed: 0 },
    };
    const render = { ...photo, kind: 'render', details: { rendition: '1080x1350' } };
    // Created is in the browser's own zone and locale: checked apart.
    const rows = (a: unknown) => provenanceRows(a).filter(([t]: [string]) => t !== 'Created');
    return [assetTitle(caption), rows(caption), assetTitle(photo), rows(photo), assetTitle(render),
      provenanceRows(caption).at(-1)[0]];
  });
  expect(shown).toEqual([
    'HQ captions',
    [
      ['Made by', '<b>m</b> 1.0.0 (fp32)'],
      ['Backend', 'ort-native-cpu'],
      ['Tier', 'cloud'],
      ['Preset', 'final'],
      ['Checksum', `${'c'.repeat(16)}…`],
      ['Size', '1.4 kB'],
    ],
    'Photo',
    [['Made by', 'you'], ['Size', '179 B, 96×64']],
    'HQ render 1080x1350',
    'Created',
  ]);
});
