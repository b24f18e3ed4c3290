// Assets: everything the vault keeps, newest first — the creator's photos, the HQ renders and
// the HQ caption results — each with its provenance as text, a way to save it out of the vault
// and to delete it (after a confirmation; the vault then collects its blob).
//
// Nothing here is markup: photos and renders are decoded in the worker into ImageBitmaps and
// drawn on canvases; captions (model output) and every server or model string are text nodes.
import type { Asset } from '../protocol.js';
import type { App } from './app.js';
import { append, h, screen } from './dom.js';
import { bytes, when } from './format.js';

const THUMB_SIDE = 96;
const LIMIT = 200;

const EXTENSIONS: Record<string, string> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/webp': 'webp',
  'image/gif': 'gif',
  'application/json': 'json',
};

/** What the asset is, in a few words (untrusted names stay text where they are used). */
export function assetTitle(a: Asset): string {
  switch (a.kind) {
    case 'photo':
      return 'Photo';
    case 'thumbnail':
      return 'Thumbnail';
    case 'render':
      return `HQ render ${String(a.details['rendition'] ?? '')}`.trim();
    case 'caption-hq':
      return 'HQ captions';
  }
}

/** The provenance lines shown for an asset, as [term, description] text pairs. */
export function provenanceRows(a: Asset): [string, string][] {
  const p = a.provenance;
  const rows: [string, string][] = [];
  if (p.modelId) {
    const quant = p.quantization ? ` (${p.quantization})` : '';
    rows.push(['Made by', `${p.modelId} ${p.modelVersion}${quant}`.trim()]);
    if (p.backend) rows.push(['Backend', p.backend]);
    if (p.tier) rows.push(['Tier', p.tier]);
    if (p.preset) rows.push(['Preset', p.preset]);
    if (p.modelChecksum) rows.push(['Checksum', `${p.modelChecksum.slice(0, 16)}…`]);
  } else {
    rows.push(['Made by', 'you']);
  }
  const size = a.width && a.height ? `${bytes(a.bytes)}, ${a.width}×${a.height}` : bytes(a.bytes);
  rows.push(['Size', size]);
  rows.push(['Created', when(a.createdAtMs)]);
  return rows;
}

function fileName(a: Asset): string {
  const ext = EXTENSIONS[a.mime] ?? 'bin';
  const label = a.kind === 'render' ? `-${String(a.details['rendition'] ?? '')}` : '';
  return `cairn-${a.kind}-${a.id}${label.replace(/[^A-Za-z0-9_-]/g, '')}.${ext}`;
}

export function assetsScreen(app: App): HTMLElement {
  const core = app.core!;
  const status = h('p', { class: 'hint', id: 'assets-status' }, 'Loading…');
  const list = h('ul', { class: 'list assets', 'aria-live': 'polite', 'aria-busy': 'true' });
  const urls: string[] = [];
  const bitmaps: ImageBitmap[] = [];
  // Object URLs and bitmaps are let go of when the screen is left.
  const cleanup = new MutationObserver(() => {
    if (list.isConnected) return;
    cleanup.disconnect();
    for (const u of urls.splice(0)) URL.revokeObjectURL(u);
    for (const b of bitmaps.splice(0)) b.close();
  });

  const thumbnail = (a: Asset): HTMLElement => {
    const canvas = h('canvas', {
      class: 'thumb',
      role: 'img',
      'aria-label': `${assetTitle(a)} ${a.id}`,
      width: THUMB_SIDE,
      height: THUMB_SIDE,
      'data-state': 'loading',
    });
    const ask = { blobHash: a.blobHash, mime: a.mime, maxSide: THUMB_SIDE };
    void core.call('assets.thumbnail', ask).then(
      (bitmap) => {
        bitmaps.push(bitmap);
        canvas.width = bitmap.width;
        canvas.height = bitmap.height;
        canvas.getContext('2d')?.drawImage(bitmap, 0, 0);
        canvas.dataset['state'] = 'shown';
      },
      (error: Error) => {
        canvas.dataset['state'] = 'failed';
        canvas.setAttribute('aria-label', `${assetTitle(a)} ${a.id}: ${error.message}`);
      },
    );
    return canvas;
  };

  const save = async (a: Asset, button: HTMLButtonElement): Promise<void> => {
    button.disabled = true;
    try {
      const blob = await core.call('assets.bytes', { blobHash: a.blobHash, mime: a.mime });
      const url = URL.createObjectURL(blob);
      urls.push(url);
      const link = h('a', { href: url, download: fileName(a), hidden: true });
      document.body.append(link);
      link.click();
      link.remove();
      app.announce(`Saving ${fileName(a)}.`);
    } catch (error) {
      app.announce(`Could not save asset ${a.id}: ${(error as Error).message}`);
    } finally {
      button.disabled = false;
    }
  };

  const item = (a: Asset): HTMLLIElement => {
    const li = h('li', { class: `asset ${a.kind}`, id: `asset-${a.id}`, 'data-kind': a.kind });
    const title = h('h3', { class: 'asset-title' }, `${assetTitle(a)} · asset ${a.id}`);
    const name = typeof a.details['name'] === 'string' ? (a.details['name'] as string) : '';
    const body =
      a.kind === 'caption-hq'
        ? h(
            'ol',
            { class: 'hq-captions' },
            ...(a.captions?.length ? a.captions : ['(no captions)']).map((c) => h('li', {}, c)),
          )
        : thumbnail(a);
    const rows = provenanceRows(a);
    const links = !a.draftId && !a.jobId ? null : h(
      'p',
      { class: 'meta' },
      a.draftId
        ? h('a', { class: 'draft-link', href: `#/compose?draft=${a.draftId}` },
            `draft ${a.draftId}`)
        : null,
      a.draftId && a.jobId ? ' · ' : null,
      a.jobId
        ? h('a', { class: 'job-link', href: `#/jobs?job=${a.jobId}` }, `job ${a.jobId}`)
        : null,
    );
    const saveButton = h('button', { type: 'button', class: 'secondary' }, 'Save');
    saveButton.setAttribute('aria-label', `Save ${assetTitle(a)} ${a.id}`);
    saveButton.addEventListener('click', () => void save(a, saveButton));
    const deleteButton = h('button', { type: 'button', class: 'secondary' }, 'Delete');
    deleteButton.setAttribute('aria-label', `Delete ${assetTitle(a)} ${a.id}`);
    const actions = h('div', { class: 'actions' }, saveButton, deleteButton);
    deleteButton.addEventListener('click', () => {
      const confirmYes = h('button', { type: 'button', class: 'danger' }, 'Delete for good');
      const confirmNo = h('button', { type: 'button', class: 'secondary' }, 'Keep it');
      const question = h(
        'div',
        { class: 'confirm', role: 'alertdialog', 'aria-labelledby': `asset-${a.id}-q` },
        h(
          'p',
          { id: `asset-${a.id}-q` },
          `Delete ${assetTitle(a).toLowerCase()} (asset ${a.id}) from this device? ` +
            'It cannot be brought back.',
        ),
        h('div', { class: 'actions' }, confirmYes, confirmNo),
      );
      actions.replaceWith(question);
      confirmNo.focus();
      confirmNo.addEventListener('click', () => {
        question.replaceWith(actions);
        deleteButton.focus();
      });
      confirmYes.addEventListener('click', () => {
        confirmYes.disabled = confirmNo.disabled = true;
        void core.call('assets.delete', { id: a.id }).then(
          (r) => {
            li.remove();
            const left = list.children.length;
            const kept = r.keptForExports > 0
              ? ` An HQ export waiting to be sent still needs this photo: its copy stays on this ` +
                `device, encrypted, until the export is done.`
              : '';
            status.textContent = (left ? `${left} assets.` : 'Nothing kept yet.') + kept;
            app.announce(`Deleted asset ${a.id}.${kept}`);
            list.closest('section')?.querySelector<HTMLElement>('h2')?.focus();
          },
          (error: Error) => {
            confirmYes.disabled = confirmNo.disabled = false;
            app.announce(`Could not delete asset ${a.id}: ${error.message}`);
          },
        );
      });
    });
    append(li, title, name ? h('p', { class: 'asset-name text' }, name) : null, body);
    append(
      li,
      h(
        'dl',
        { class: 'provenance hint' },
        ...rows.flatMap(([term, value]) => [h('dt', {}, term), h('dd', {}, value)]),
      ),
      links,
      actions,
    );
    return li;
  };

  void core.call('assets.list', { kind: '', limit: LIMIT }).then(
    (assets) => {
      // Newest first: the vault lists by id, which follows creation.
      const shown = assets;
      list.replaceChildren(...shown.map(item));
      list.setAttribute('aria-busy', 'false');
      status.textContent = shown.length
        ? `${shown.length} assets.`
        : 'Nothing kept yet. Pick a photo on Compose, or export in HQ.';
      cleanup.observe(document.body, { childList: true, subtree: true });
    },
    (error: Error) => {
      list.setAttribute('aria-busy', 'false');
      status.textContent = `Could not load the assets: ${error.message}`;
    },
  );
  return screen('Assets', status, list);
}
