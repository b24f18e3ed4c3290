// What the on-device models say about the compose screen's photo: its tags (which prefill the
// prompt's Context), the image-safety verdict (an unsafe one is shown clearly; the creator may
// still go on), and the provenance of each. Every label is model output: set as text only.
import type { ImageModelProvenance, PhotoAnalysis } from '../protocol.js';
import { h } from './dom.js';

export interface PhotoAnalysisView {
  el: HTMLElement;
  busy(): void;
  show(a: PhotoAnalysis): void;
  error(message: string): void;
  clear(): void;
}

const pct = (x: number): string => `${Math.round(x * 100)} %`;

export function provenanceLine(p: ImageModelProvenance): string {
  return `${p.modelId} ${p.modelVersion} (${p.variant}, ${p.quantization}, ${p.licence}) on ${p.backend}; ` +
    `checksum ${p.modelChecksum.slice(0, 16)}…`;
}

export function photoAnalysisView(): PhotoAnalysisView {
  const tags = h('p', { class: 'photo-tags' });
  const safety = h('p', { class: 'photo-safety' });
  const prov = h('p', { class: 'hint photo-provenance' });
  const el = h('div', { class: 'photo-analysis', 'aria-live': 'polite', hidden: true }, tags, safety, prov);
  const clear = (): void => {
    el.hidden = true;
    for (const p of [tags, safety, prov]) p.textContent = '';
    safety.removeAttribute('role');
    safety.className = 'photo-safety';
  };
  return {
    el,
    clear,
    busy() {
      clear();
      el.hidden = false;
      tags.textContent = 'Looking at the photo on this device…';
    },
    error(message) {
      clear();
      el.hidden = false;
      tags.textContent = `Could not check the photo: ${message}`;
    },
    show(a) {
      clear();
      el.hidden = false;
      const lines: string[] = [];
      if (a.tags === null) {
        tags.textContent = 'Photo tags: install a photo-tags model on the Models screen.';
      } else if ('refused' in a.tags) {
        tags.textContent = `Photo tags are off: ${a.tags.refused}`;
      } else {
        tags.textContent = a.tags.labels.length
          ? `Photo tags: ${a.tags.labels.join(', ')}`
          : 'Photo tags: nothing recognised.';
        lines.push(`Tags by ${provenanceLine(a.tags.provenance)}`);
      }
      if (a.safety === null) {
        safety.textContent = 'Safety check: install an image-safety model on the Models screen.';
      } else if (a.safety.unsafe) {
        safety.setAttribute('role', 'alert');
        safety.className = 'photo-safety unsafe';
        safety.textContent =
          `This photo may not be safe to post (${a.safety.top} ${pct(a.safety.probabilities[a.safety.top] ?? 0)}). ` +
          'You can still go on; consider a review before posting.';
        lines.push(`Safety by ${provenanceLine(a.safety.provenance)}`);
      } else {
        safety.textContent = `Safety check: looks fine (${a.safety.top} ${pct(a.safety.probabilities[a.safety.top] ?? 0)}).`;
        lines.push(`Safety by ${provenanceLine(a.safety.provenance)}`);
      }
      prov.textContent = lines.join(' · ');
    },
  };
}
