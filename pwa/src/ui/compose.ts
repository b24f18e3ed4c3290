// Compose: a photo, the four prompt fields, a preset and a count; captions stream in as the
// model writes them, then one is picked, edited and saved as a draft (captions_panel.ts).
import { CairnError, fastPreviewOffered, PREVIEW } from '../protocol.js';
import type { Asset, CaptionRequest, Draft, PhotoAnalysis, Preset } from '../protocol.js';
import type { App } from './app.js';
import { captionsPanel } from './captions_panel.js';
import { errorLine, field, h, screen } from './dom.js';
import { photoAnalysisView } from './photo_analysis.js';
import { photoPicker } from './photo_picker.js';
import { takeSharedPhoto } from './share_inbox.js';

const PRESETS: { value: Preset; label: string; hint: string }[] = [
  { value: 'low', label: 'Low', hint: 'fastest, shortest' },
  { value: 'preview', label: 'Preview', hint: 'balanced' },
  { value: 'final', label: 'Final', hint: 'best on this device' },
];

// The HQ image export of the compose screen's photo (sync/PROTOCOL.md, image-export): the
// renditions a platform takes as they are.
const EXPORT_SIZES = ['1080x1080', '1080x1350'];

export function composeScreen(app: App, params: URLSearchParams): HTMLElement {
  const analysis = photoAnalysisView();
  // The Context the photo's tags wrote: replaced when another photo is analysed, never text
  // the creator typed.
  let prefilled = '';
  let photoGeneration = 0;
  // The picked photo as the vault keeps it (an asset), once saved: what an HQ export renders.
  let saved: Asset | null = null;
  const photoSaved = h('p', { class: 'hint photo-saved', role: 'status' });
  const exportErr = errorLine();
  const exportImage = h('button', { type: 'button', class: 'secondary', hidden: true }, 'Export image in HQ');
  const savePhoto = async (file: File, a: PhotoAnalysis | null, mine: number): Promise<void> => {
    try {
      const asset = await app.core!.call('photo.save', { photo: file, name: file.name, analysis: a });
      if (mine !== photoGeneration) return;
      saved = asset;
      photoSaved.textContent = `Photo kept in the vault (asset ${asset.id}).`;
      exportImage.hidden = false;
    } catch (error) {
      if (mine === photoGeneration) exportErr.show(`The photo was not kept: ${(error as Error).message}`);
    }
  };
  const photo = photoPicker((file) => {
    const mine = ++photoGeneration;
    saved = null;
    exportImage.hidden = true;
    photoSaved.textContent = '';
    exportErr.show('');
    if (!file) return analysis.clear();
    analysis.busy();
    app.core!.call('photo.analyze', { photo: file }).then(
      (a) => {
        if (mine !== photoGeneration) return;
        analysis.show(a);
        if (a.context && (context.value.trim() === '' || context.value === prefilled)) {
          context.value = a.context;
          prefilled = a.context;
        }
        void savePhoto(file, a, mine);
      },
      (error: Error) => {
        if (mine === photoGeneration) analysis.error(error.message);
      },
    );
  });
  exportImage.addEventListener('click', async () => {
    if (!saved) return;
    if ('Notification' in self && Notification.permission === 'default')
      void Notification.requestPermission();
    exportImage.disabled = true;
    try {
      // Queued in the vault's outbox like caption-hq; the sync engine uploads the photo, then
      // submits, when there is a connection.
      const job = await app.core!.call('jobs.enqueue', {
        kind: 'image-export',
        preset: 'final',
        draftId: null,
        payload: { source: saved.blobHash, sizes: EXPORT_SIZES },
      });
      app.announce(
        navigator.onLine
          ? 'HQ image export queued.'
          : 'HQ image export queued; it is sent when you are back online.',
      );
      app.go('jobs', { job: String(job.id) });
    } catch (error) {
      exportErr.show(`Could not queue the export: ${(error as Error).message}`);
    } finally {
      exportImage.disabled = false;
    }
  });
  const task = h('input', { type: 'text', value: 'Write Instagram captions for this photo' });
  const context = h('textarea', {
    rows: 3,
    placeholder: 'What is in the photo, where, who it is for',
  });
  const style = h('input', { type: 'text', placeholder: 'e.g. playful, short, one emoji each' });
  const format = h('input', {
    type: 'text',
    placeholder: 'Leave empty: Cairn asks for JSON itself',
  });
  const count = h('input', { type: 'number', min: 1, max: 10, value: 3, inputmode: 'numeric' });
  const presets = h(
    'fieldset',
    { class: 'presets' },
    h('legend', {}, 'Quality'),
    ...PRESETS.map((p) =>
      h(
        'label',
        { class: 'choice' },
        h('input', {
          type: 'radio',
          name: 'preset',
          value: p.value,
          checked: p.value === 'preview',
        }),
        ` ${p.label} `,
        h('span', { class: 'hint' }, `(${p.hint})`),
      ),
    ),
  );
  // Which execution provider to try first; the worker falls back (webnn → webgpu → wasm) when
  // it fails, and the provenance line says what actually ran.
  const backend = h(
    'select',
    {},
    h('option', { value: '' }, 'Automatic (first that works: WebNN, WebGPU, CPU)'),
    h('option', { value: 'webnn' }, 'WebNN'),
    h('option', { value: 'webgpu' }, 'WebGPU'),
    h('option', { value: 'wasm' }, 'WebAssembly (CPU)'),
  );
  const err = errorLine(count);
  const generate = h('button', { type: 'submit' }, 'Generate captions');
  const prompt = () => ({
    task: task.value,
    context: context.value,
    style: style.value,
    outputFormat: format.value,
  });
  const request = (n: number, preset: Preset, maxChars = 220): CaptionRequest => ({
    prompt: prompt(),
    count: n,
    maxChars,
    maxHashtags: 5,
    emojiRequired: false,
    banned: [],
    preset,
    seed: crypto.getRandomValues(new Uint32Array(1))[0]!,
    backend: (backend.value || null) as CaptionRequest['backend'],
  });

  // Fast preview (DESIGN.md): where this device runs a preview (one Low caption) in under
  // FAST_PREVIEW_P95_MS at p95, compose offers to preview a caption as the creator types. The
  // preview is model output: shown as text, and held back if the safety check did not pass it.
  const livePreview = h('input', { type: 'checkbox', name: 'live-preview' });
  const previewOut = h('p', { class: 'live-preview', role: 'status' });
  const previewField = h(
    'div',
    { class: 'field fast-preview', hidden: true },
    h('label', { class: 'choice' }, livePreview, ' Preview a caption as I type (fast preview)'),
    previewOut,
  );
  void app.core!.call('models.list', undefined).then(
    (models) => {
      const m = models.find((x) => x.state === 'installed' && x.task === 'caption-lm');
      previewField.hidden = !(m && fastPreviewOffered(m));
    },
    () => undefined, // no preview offered; the models screen says why
  );
  let previewTimer = 0;
  let previewBusy = false;
  let previewAgain = false;
  const runPreview = async (): Promise<void> => {
    if (previewBusy) {
      previewAgain = true;
      return;
    }
    if (!livePreview.checked || !task.value.trim()) return;
    previewBusy = true;
    try {
      const r = await app.core!.call(
        'captions.generate',
        request(PREVIEW.count, PREVIEW.preset, PREVIEW.maxChars),
      );
      const first = r.captions[0];
      previewOut.textContent = !first
        ? 'No preview this time.'
        : first.safety.verdict === 'clean'
          ? first.text
          : `Preview held back by the safety check (${first.safety.verdict}).`;
    } catch (error) {
      previewOut.textContent = `No preview: ${(error as Error).message}`;
    } finally {
      previewBusy = false;
      if (previewAgain) {
        previewAgain = false;
        void runPreview();
      }
    }
  };
  const schedulePreview = () => {
    if (!livePreview.checked) return;
    window.clearTimeout(previewTimer);
    previewTimer = window.setTimeout(() => void runPreview(), 600);
  };
  for (const input of [task, context, style]) input.addEventListener('input', schedulePreview);
  livePreview.addEventListener('change', () => {
    if (livePreview.checked) void runPreview();
    else previewOut.textContent = '';
  });
  const panel = captionsPanel(app, prompt);

  const form = h(
    'form',
    { class: 'card', novalidate: true },
    photo.el,
    analysis.el,
    h('div', { class: 'actions photo-export' }, exportImage),
    photoSaved,
    exportErr.el,
    field('Task', task, 'What the captions are for.'),
    field('Context', context, 'Facts the captions may use. Model output is checked against them.'),
    field('Style', style),
    field('Output format', format),
    previewField,
    presets,
    field('How many captions', count, '1 to 10.'),
    field('Run on', backend, 'If this one is not available here, Cairn falls back and says so.'),
    err.el,
    generate,
  );

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const n = Number(count.value);
    if (!Number.isInteger(n) || n < 1 || n > 10) return err.show('Ask for 1 to 10 captions.');
    if (!task.value.trim()) return err.show('Say what the captions are for (Task).');
    err.show('');
    const preset = (form.querySelector<HTMLInputElement>('input[name=preset]:checked')?.value ??
      'preview') as Preset;
    generate.disabled = true;
    generate.textContent = 'Generating…';
    try {
      await panel.generate(request(n, preset));
    } catch (error) {
      err.show(error instanceof CairnError ? describe(error) : String(error));
    } finally {
      generate.disabled = false;
      generate.textContent = 'Generate captions';
    }
  });

  if (params.get('shared') === '1') {
    void takeSharedPhoto().then((file) => {
      if (!file) return;
      photo.set(file);
      app.announce(`Shared photo ${file.name} is ready.`);
    });
  }
  const draftId = Number(params.get('draft'));
  if (Number.isInteger(draftId) && draftId > 0) {
    void app.core!.call('drafts.get', { id: draftId }).then(
      (d: Draft) => {
        task.value = d.prompt.task;
        context.value = d.prompt.context;
        style.value = d.prompt.style;
        format.value = d.prompt.outputFormat;
        panel.edit(d);
      },
      (error: Error) => err.show(`Could not open the draft: ${error.message}`),
    );
  }
  return screen('Compose', form, panel.el);
}

function describe(e: CairnError): string {
  switch (e.code) {
    case 'no_model':
      return 'No caption model is installed yet. Install one on the Models screen.';
    case 'auth_failed':
    case 'corruption':
      return `The caption model failed its check and was not used: ${e.message}`;
    case 'vault_locked':
      return 'The vault is locked. Unlock it and try again.';
    case 'cancelled':
      return 'Generation was stopped.';
    default:
      return `Could not generate captions: ${e.message}`;
  }
}
