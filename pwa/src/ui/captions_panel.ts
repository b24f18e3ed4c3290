// The captions half of compose: the model's text streaming in, the checked captions to pick
// from, and the editor that saves one as a draft. Every piece of model output is set with
// textContent or as a form value, never parsed as HTML. "Saved" appears only after the core
// has committed the draft.
import type { CaptionRequest, CaptionResult, Draft, PromptParts } from '../protocol.js';
import type { App } from './app.js';
import { errorLine, field, h } from './dom.js';

export interface CaptionsPanel {
  el: HTMLElement;
  generate(request: CaptionRequest): Promise<void>;
  edit(draft: Draft): void;
}

// A hashtag starts a word: "not#tag" has none.
const HASHTAG = /(?<![\p{L}\p{N}_])#[\p{L}\p{N}_]+/gu;

export function hashtagsOf(text: string): string[] {
  return [...new Set(text.match(HASHTAG) ?? [])];
}

export function captionsPanel(app: App, prompt: () => PromptParts): CaptionsPanel {
  let draftId: number | null = null;
  const stream = h('pre', {
    class: 'stream',
    'aria-label': 'Model output as it is written',
    hidden: true,
  });
  const choices = h(
    'fieldset',
    { class: 'choices', hidden: true },
    h('legend', {}, 'Pick a caption'),
  );
  const caption = h('textarea', { rows: 4, id: 'caption-text' });
  const hashtags = h('input', {
    type: 'text',
    id: 'caption-hashtags',
    placeholder: '#photo #summer',
  });
  // Hashtag suggestions from the embedding model: chips (buttons with text, never markup) that
  // add their hashtag to the field.
  const suggestions = h('div', {
    class: 'chips',
    role: 'group',
    'aria-label': 'Suggested hashtags',
    id: 'hashtag-suggestions',
  });
  const saveErr = errorLine(caption);
  const saved = h('p', { class: 'saved', role: 'status' });
  const save = h('button', { type: 'submit' }, 'Save as draft');
  const exportHq = h(
    'button',
    { type: 'button', class: 'secondary', hidden: true },
    'Export in HQ',
  );
  const provenance = h('p', { class: 'provenance hint' });
  const editor = h(
    'form',
    { class: 'card editor', hidden: true, novalidate: true },
    field('Caption', caption),
    field('Hashtags', hashtags, 'Separate them with spaces.'),
    suggestions,
    saveErr.el,
    h('div', { class: 'actions' }, save, exportHq),
    saved,
    provenance,
  );

  // Writing a caption by hand needs no model: the editor opens empty.
  const writeOwn = h(
    'button',
    { type: 'button', class: 'secondary', onclick: () => {
      pick('');
      writeOwn.hidden = true;
      caption.focus();
    } },
    'Write a caption yourself',
  );
  const markUnsaved = (): void => {
    saved.textContent = '';
    exportHq.hidden = true;
  };
  caption.addEventListener('input', markUnsaved);
  hashtags.addEventListener('input', markUnsaved);

  let suggestGeneration = 0;
  let suggestTimer = 0;
  const suggest = async (): Promise<void> => {
    const mine = ++suggestGeneration;
    const text = `${caption.value} ${hashtags.value}`.trim();
    if (!text) return suggestions.replaceChildren();
    try {
      const got = await app.core!.call('hashtags.suggest', { text, limit: 8 });
      if (mine !== suggestGeneration) return;
      const have = new Set(hashtagsOf(hashtags.value).map((t) => t.toLowerCase()));
      const chips = got
        .filter((s) => !have.has(s.hashtag.toLowerCase()))
        .map((s) =>
          h(
            'button',
            {
              type: 'button',
              class: 'chip',
              title: `Add ${s.hashtag}`,
              onclick: () => {
                hashtags.value = `${hashtags.value.trim()} ${s.hashtag}`.trim();
                markUnsaved();
                void suggest();
              },
            },
            s.hashtag,
          ),
        );
      suggestions.replaceChildren(
        ...(chips.length ? [h('span', { class: 'hint' }, 'Suggested: '), ...chips] : []),
      );
    } catch {
      // No embedding model installed (or it failed): no suggestions, nothing else changes.
      if (mine === suggestGeneration) suggestions.replaceChildren();
    }
  };
  const suggestSoon = (): void => {
    clearTimeout(suggestTimer);
    suggestTimer = window.setTimeout(() => void suggest(), 300);
  };
  caption.addEventListener('input', suggestSoon);
  const pick = (text: string): void => {
    caption.value = text.replace(HASHTAG, '').replace(/\s+/g, ' ').trim();
    hashtags.value = hashtagsOf(text).join(' ');
    editor.hidden = false;
    writeOwn.hidden = true;
    markUnsaved();
    void suggest();
  };

  const showResult = (r: CaptionResult): void => {
    choices.replaceChildren(h('legend', {}, `Pick a caption (${r.captions.length})`));
    r.captions.forEach((c, i) => {
      const radio = h('input', { type: 'radio', name: 'caption-choice', value: i });
      radio.addEventListener('change', () => pick(c.text));
      const notes = [
        ...c.problems,
        ...(c.safety.verdict === 'clean'
          ? []
          : [`safety: ${c.safety.verdict}`, ...c.safety.reasons]),
      ];
      choices.append(
        h(
          'label',
          { class: `choice caption ${c.safety.verdict}` },
          radio,
          h('span', { class: 'text' }, c.text),
          notes.length ? h('span', { class: 'notes' }, notes.join('; ')) : null,
        ),
      );
    });
    if (r.captions.length === 0)
      choices.append(
        h('p', {}, 'The model gave no usable caption. Try again or change the prompt.'),
      );
    choices.hidden = false;
    const p = r.provenance;
    provenance.textContent =
      `${p.modelId} ${p.modelVersion} (${p.quantization}) on ${p.backend}, ${p.tier}, ` +
      `${p.preset}; ${r.generatedTokens} tokens at ${r.tokensPerSecond.toFixed(0)}/s` +
      r.fallbacks.map((f) => `; ${f.backend} was not usable (${f.error})`).join('');
  };

  editor.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!caption.value.trim()) return saveErr.show('The caption is empty.');
    saveErr.show('');
    save.disabled = true;
    saved.textContent = 'Saving…';
    try {
      const d = await app.core!.call('drafts.save', {
        id: draftId,
        draft: {
          caption: caption.value.trim(),
          hashtags: hashtagsOf(hashtags.value),
          prompt: prompt(),
          status: 'draft',
        },
      });
      draftId = d.id;
      saved.textContent = `Saved (draft ${d.id}, version ${d.version}).`;
      exportHq.hidden = false;
    } catch (error) {
      saved.textContent = '';
      saveErr.show(`Not saved: ${(error as Error).message}`);
    } finally {
      save.disabled = false;
    }
  });

  exportHq.addEventListener('click', async () => {
    if ('Notification' in self && Notification.permission === 'default')
      void Notification.requestPermission();
    try {
      const job = await app.core!.call('jobs.enqueue', {
        kind: 'caption-hq',
        preset: 'final',
        draftId,
        // The caption-hq payload (sync/PROTOCOL.md): the request this device ran, which the
        // server renders again on its fp32 model with more candidates, reranked.
        payload: {
          task: prompt().task,
          context: prompt().context,
          style: prompt().style,
          count: 3,
          max_chars: 220,
          max_hashtags: 5,
        },
      });
      app.announce(
        navigator.onLine
          ? 'HQ export queued.'
          : 'HQ export queued; it is sent when you are back online.',
      );
      app.go('jobs', { job: String(job.id) });
    } catch (error) {
      saveErr.show(`Could not queue the export: ${(error as Error).message}`);
    }
  });

  return {
    el: h('div', { class: 'captions' }, stream, choices, writeOwn, editor),
    async generate(request) {
      stream.textContent = '';
      stream.hidden = false;
      choices.hidden = true;
      app.announce('Generating captions…');
      const result = await app.core!.call('captions.generate', request, {
        onText: (chunk) => {
          stream.textContent += chunk;
        },
      });
      showResult(result);
      app.announce(`${result.captions.length} captions ready.`);
    },
    edit(d) {
      draftId = d.id;
      pick(`${d.caption} ${d.hashtags.join(' ')}`);
      saved.textContent = `Draft ${d.id}, version ${d.version}.`;
      exportHq.hidden = false;
    },
  };
}
