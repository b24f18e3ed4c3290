// HQ export jobs: where each one is, queued (waiting for a connection) → sent → done.
import type { Asset, Job } from '../protocol.js';
import type { App } from './app.js';
import { h, screen } from './dom.js';
import { when } from './format.js';

const STEPS = ['Queued', 'Sent', 'Done'] as const;

/** The step a job has reached (0..2), and what to say about it. */
export function jobStep(job: Job): { step: number; label: string } {
  switch (job.state) {
    case 'queued':
      return {
        step: 0,
        label: navigator.onLine ? 'Queued, sending soon' : 'Queued, waiting for a connection',
      };
    case 'sending':
      return { step: 0, label: 'Sending…' };
    case 'accepted':
      return { step: 1, label: 'Sent, waiting for the server' };
    case 'running':
      return { step: 1, label: 'Sent, rendering on the server' };
    case 'done':
      return { step: 2, label: 'Done' };
    case 'failed':
      return { step: -1, label: `Failed: ${job.lastError || 'no reason given'}` };
    case 'cancelled':
      return { step: -1, label: 'Cancelled' };
  }
}

interface HqResult {
  captions?: { text?: unknown }[];
  provenance?: Record<string, unknown>;
}

/** A done caption-hq job's captions (untrusted model output: text nodes only) and provenance. */
function hqResult(result: unknown): HTMLElement | null {
  const r = result as HqResult | null;
  if (!r || !Array.isArray(r.captions)) return null;
  const p = r.provenance ?? {};
  return h(
    'div',
    { class: 'hq-result' },
    h('ol', { class: 'hq-captions' }, ...r.captions.map((c) => h('li', {}, String(c.text ?? '')))),
    h(
      'p',
      { class: 'provenance hint' },
      `${String(p['model_id'])} ${String(p['model_version'])} (${String(p['quantization'])}) on ` +
        `${String(p['backend'])}, ${String(p['tier'])}, ${String(p['preset'])}`,
    ),
  );
}

/** A done image export's renders, out of the vault into blob: URLs (never markup: the server's
 * words are set as text, the pictures as <img src=blob:…>); the URLs are revoked when the
 * screen is left. */
function rendersOf(app: App, job: Job, urls: string[]): HTMLElement {
  const box = h('div', { class: 'renders', 'aria-live': 'polite' }, h('p', { class: 'hint' }, 'Loading the renders…'));
  void app.core!.call('assets.list', { kind: 'render', limit: 200 }).then(
    async (assets) => {
      const mine = assets
        .filter((a: Asset) => a.details['job'] === job.id)
        .sort((a, b) => a.id - b.id);
      const figures: HTMLElement[] = [];
      for (const a of mine) {
        const bytes = await app.core!.call('assets.bytes', { blobHash: a.blobHash, mime: a.mime });
        const url = URL.createObjectURL(bytes);
        urls.push(url);
        const name = String(a.details['rendition'] ?? '');
        figures.push(
          h(
            'figure',
            { class: 'render' },
            h('img', { src: url, alt: `HQ render ${name}`, width: a.width, height: a.height, 'data-rendition': name }),
            h(
              'figcaption',
              { class: 'provenance hint' },
              `${name} · ${a.provenance.modelId} (libvips ${a.provenance.modelVersion}), ` +
                `${a.provenance.tier}, ${a.provenance.preset}; checksum ${a.provenance.modelChecksum.slice(0, 16)}…`,
            ),
          ),
        );
      }
      box.replaceChildren(
        ...(figures.length ? figures : [h('p', { class: 'hint' }, 'No render is stored for this export.')]),
      );
    },
    (error: Error) => box.replaceChildren(h('p', { class: 'error' }, `Could not show the renders: ${error.message}`)),
  );
  return box;
}

export function jobsScreen(app: App, params: URLSearchParams): HTMLElement {
  const urls: string[] = [];
  const list = h('ul', { class: 'list jobs', 'aria-live': 'polite' });
  const status = h('p', { class: 'hint' }, 'Loading…');
  const focus = Number(params.get('job'));
  const items = new Map<number, HTMLLIElement>();
  const render = (job: Job): void => {
    const { step, label } = jobStep(job);
    const li = h(
      'li',
      {
        class: `job ${job.state}`,
        id: `job-${job.id}`,
        'aria-current': job.id === focus ? 'true' : null,
      },
      h(
        'span',
        { class: 'text' },
        `${job.kind === 'caption-hq' ? 'HQ caption' : 'Image export'} · ${job.preset}`,
      ),
      h(
        'ol',
        { class: 'steps', 'aria-label': 'Progress' },
        ...STEPS.map((s, i) =>
          h(
            'li',
            { class: i <= step ? 'reached' : '', 'aria-current': i === step ? 'step' : null },
            s,
          ),
        ),
      ),
      h('span', { class: 'state', 'data-state': job.state }, label),
      h(
        'span',
        { class: 'meta' },
        `job ${job.id} · `,
        // The draft it was exported from (kept on the device, never sent): one tap back to it.
        job.draftId
          ? h(
              'a',
              { class: 'draft-link', href: `#/compose?draft=${job.draftId}` },
              `draft ${job.draftId}`,
            )
          : null,
        job.draftId ? ' · ' : null,
        when(job.updatedAtMs),
      ),
      job.state === 'done'
        ? job.kind === 'image-export'
          ? rendersOf(app, job, urls)
          : hqResult(job.result)
        : null,
    );
    const old = items.get(job.id);
    if (old) old.replaceWith(li);
    else list.prepend(li);
    items.set(job.id, li);
  };
  const stop = app.core!.onJob((job) => {
    if (list.isConnected) {
      render(job);
    } else {
      stop();
      for (const u of urls.splice(0)) URL.revokeObjectURL(u);
    }
  });
  void app.core!.call('jobs.list', undefined).then(
    (jobs) => {
      for (const j of [...jobs].sort((a, b) => a.createdAtMs - b.createdAtMs)) render(j);
      status.textContent = jobs.length
        ? ''
        : 'No HQ exports yet. Save a draft, then choose "Export in HQ".';
      document.getElementById(`job-${focus}`)?.scrollIntoView({ block: 'center' });
    },
    (error: Error) => {
      status.textContent = `Could not load jobs: ${error.message}`;
    },
  );
  return screen('HQ exports', status, list);
}
