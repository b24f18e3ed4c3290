// Models: what is installed and what can be, with size and licence before any download,
// install progress in bytes and %, and the latency measured on this device.
import type { ModelEntry } from '../protocol.js';
import { FAST_PREVIEW_P95_MS, fastPreviewOffered } from '../protocol.js';
import type { App } from './app.js';
import { h, screen } from './dom.js';
import { bytes, ms, percent } from './format.js';
import { storagePanel } from './storage_panel.js';

export function modelsScreen(app: App): HTMLElement {
  const list = h('ul', { class: 'list models' });
  const status = h('p', { class: 'hint' }, 'Loading…');
  void app.core!.call('models.list', undefined).then(
    (models) => {
      list.replaceChildren(...models.map((m) => modelItem(app, m)));
      status.textContent = models.length ? '' : 'No models are offered by the server yet.';
    },
    (error: Error) => {
      status.textContent = `Could not list the models: ${error.message}`;
    },
  );
  // The licence policy's switch: a commercial workspace refuses non-commercial models (the core
  // enforces it at download and at load).
  // Disabled until the vault says which it is, so a click never races the first read.
  const commercial = h('input', { type: 'checkbox', id: 'workspace-commercial', disabled: true });
  const workspaceNote = h('p', { class: 'hint', role: 'status' });
  void app.core!.call('workspace.get', undefined).then(
    (w) => {
      commercial.checked = w.commercial;
      commercial.disabled = false;
    },
    (error: Error) => {
      workspaceNote.textContent = `Could not read the workspace setting: ${error.message}`;
    },
  );
  commercial.addEventListener('change', async () => {
    const want = commercial.checked;
    commercial.disabled = true;
    try {
      await app.core!.call('workspace.set', { commercial: want });
      workspaceNote.textContent = want
        ? 'Commercial workspace: models whose licence does not allow commercial use are refused.'
        : 'Personal workspace: non-commercial models may be used.';
    } catch (error) {
      workspaceNote.textContent = `Not changed: ${(error as Error).message}`;
      commercial.checked = !want;
    } finally {
      commercial.disabled = false;
    }
  });
  return screen(
    'Models',
    h(
      'p',
      { class: 'lead' },
      'Models run on this device. Downloads are ' +
        'opt-in: each shows its size and licence first, and is checked against its signature before use.',
    ),
    h(
      'div',
      { class: 'field workspace' },
      h('label', { class: 'choice' }, commercial, ' This is a commercial workspace (work for clients or a business)'),
      workspaceNote,
    ),
    status,
    list,
    // Models are most of what Cairn stores: their room on the device is shown beside them.
    storagePanel(app.announce, () => app.core!.call('storage.info', undefined)),
  );
}

function modelItem(app: App, m: ModelEntry): HTMLLIElement {
  const progress = h('progress', {
    max: Math.max(m.bytes, 1),
    value: 0,
    hidden: true,
    'aria-label': `Download of ${m.id}`,
  });
  const progressText = h('p', { class: 'progress-text' });
  const install = h(
    'button',
    { type: 'button' },
    m.state === 'failed' ? 'Retry download' : `Install (${bytes(m.bytes)})`,
  );
  install.hidden = m.state === 'installed' || m.state === 'downloading';
  const fast = fastPreviewOffered(m);
  const li = h(
    'li',
    { class: `model ${m.state}` },
    h('h3', {}, `${m.id} `, h('span', { class: 'meta' }, `v${m.version} · ${m.task}`)),
    h(
      'dl',
      {},
      h('dt', {}, 'Size'),
      h('dd', {}, bytes(m.bytes)),
      h('dt', {}, 'Licence'),
      h(
        'dd',
        {},
        `${m.licence} (${m.commercialUse ? 'commercial use allowed' : 'non-commercial only'})`,
      ),
      h('dt', {}, 'State'),
      h('dd', { class: 'state' }, m.state),
      h('dt', {}, 'Backend'),
      h('dd', {}, m.backend ?? 'not measured yet'),
      h('dt', {}, 'Latency per token'),
      h('dd', {}, m.p50Ms === null ? 'not measured yet' : `p50 ${ms(m.p50Ms)}, p95 ${ms(m.p95Ms)}`),
      ...(m.task === 'caption-lm'
        ? [
            h('dt', {}, 'One-caption preview'),
            h(
              'dd',
              { class: 'preview-latency' },
              m.previewP50Ms === null
                ? 'not measured yet (fast preview measures it)'
                : `p50 ${ms(m.previewP50Ms)}, p95 ${ms(m.previewP95Ms)} over ${m.previewRuns} ` +
                    (m.previewRuns === 1 ? 'run' : 'runs'),
            ),
          ]
        : []),
    ),
    fast
      ? h('p', { class: 'badge' }, 'Fast preview on: Compose previews a caption as you type')
      : m.task === 'caption-lm' && m.state === 'installed'
        ? h(
            'p',
            { class: 'hint fast-preview-off' },
            `Fast preview is offered when a one-caption preview takes under ` +
              `${ms(FAST_PREVIEW_P95_MS)} at p95 on this device.`,
          )
        : null,
    progress,
    progressText,
    install,
  );
  install.addEventListener('click', async () => {
    install.disabled = true;
    progress.hidden = false;
    try {
      const done = await app.core!.call(
        'models.install',
        { id: m.id },
        {
          onProgress: (loaded, total) => {
            progress.max = Math.max(total, 1);
            progress.value = loaded;
            progressText.textContent = `${bytes(loaded)} of ${bytes(total)} (${percent(loaded, total)})`;
          },
        },
      );
      app.announce(`${m.id} installed.`);
      const next = modelItem(app, done);
      // The download's last line stays: what arrived, verified.
      next.querySelector('.progress-text')!.textContent =
        `${progressText.textContent}: verified against its signed manifest.`;
      li.replaceWith(next);
    } catch (error) {
      progressText.textContent = `Download stopped: ${(error as Error).message}. It resumes where it stopped.`;
      install.disabled = false;
      install.textContent = 'Retry download';
    }
  });
  return li;
}
