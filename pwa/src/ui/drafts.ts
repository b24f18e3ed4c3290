// Drafts: the newest first, and a search box (the core's full-text and semantic search).
import type { Draft, SearchHit } from '../protocol.js';
import type { App } from './app.js';
import { field, h, screen } from './dom.js';
import { when } from './format.js';

export function draftsScreen(app: App): HTMLElement {
  const search = h('input', {
    type: 'search',
    placeholder: 'beach, sunset, #dog…',
    autocomplete: 'off',
  });
  const list = h('ul', { class: 'list', 'aria-live': 'polite', 'aria-busy': 'true' });
  const status = h('p', { class: 'hint' });
  const semantic = h('p', { class: 'hint', id: 'semantic-status' });
  let generation = 0;
  const showSemantic = async (): Promise<void> => {
    try {
      const s = await app.core!.call('drafts.semanticStatus', undefined);
      const ms = (x: number): string => (x < 10 ? x.toFixed(1) : x.toFixed(0));
      const measured = [
        s.embedMsPerText !== null ? `${ms(s.embedMsPerText)} ms per draft` : '',
        s.searchMsP50 !== null ? `search ${ms(s.searchMsP50)} ms` : '',
      ].filter(Boolean);
      semantic.textContent = s.modelId
        ? `Search by meaning is on (${s.modelId}, ${s.variant} on ${s.backend}` +
          (measured.length ? `; ${measured.join(', ')} on this device` : '') + ').'
        : 'Search finds words only. Install an embedding model on the Models screen to search by meaning too.';
    } catch {
      semantic.textContent = '';
    }
  };

  const show = async (): Promise<void> => {
    const mine = ++generation;
    const query = search.value.trim();
    list.setAttribute('aria-busy', 'true');
    try {
      if (query) {
        const hits = await app.core!.call('drafts.search', { query, limit: 50 });
        if (mine !== generation) return;
        list.replaceChildren(...hits.map(hitItem));
        status.textContent = hits.length
          ? `${hits.length} found for “${query}”.`
          : `Nothing found for “${query}”.`;
        void showSemantic();
      } else {
        const drafts = await app.core!.call('drafts.list', { limit: 100, offset: 0 });
        if (mine !== generation) return;
        list.replaceChildren(...drafts.map(draftItem));
        status.textContent = drafts.length
          ? `${drafts.length} drafts.`
          : 'No drafts yet. Compose one.';
      }
    } catch (error) {
      if (mine === generation)
        status.textContent = `Could not load drafts: ${(error as Error).message}`;
    } finally {
      if (mine === generation) list.setAttribute('aria-busy', 'false');
    }
  };
  let timer = 0;
  search.addEventListener('input', () => {
    clearTimeout(timer);
    timer = window.setTimeout(show, 200);
  });
  void show().then(showSemantic);
  return screen(
    'Drafts',
    h(
      'form',
      {
        role: 'search',
        onsubmit: (e: Event) => {
          e.preventDefault();
          void show();
        },
      },
      field('Search drafts', search),
    ),
    semantic,
    status,
    list,
  );
}

function draftItem(d: Draft): HTMLLIElement {
  return h(
    'li',
    {},
    h(
      'a',
      { href: `#/compose?draft=${d.id}`, class: 'item' },
      h('span', { class: 'text' }, d.caption || '(empty caption)'),
      d.hashtags.length ? h('span', { class: 'tags' }, d.hashtags.join(' ')) : null,
      h('span', { class: 'meta' }, `${d.status} · edited ${when(d.updatedAtMs)}`),
    ),
  );
}

const MATCH: Record<SearchHit['match'], string> = {
  text: 'by its words',
  meaning: 'by meaning',
  both: 'by words and meaning',
};

function hitItem(hit: SearchHit): HTMLLIElement {
  return h(
    'li',
    {},
    h(
      'a',
      { href: `#/compose?draft=${hit.draftId}`, class: 'item' },
      h('span', { class: 'text' }, hit.snippet),
      h(
        'span',
        { class: 'meta' },
        `draft ${hit.draftId} · ${MATCH[hit.match]} · match ${Math.round(hit.score * 100)} %`,
      ),
    ),
  );
}
