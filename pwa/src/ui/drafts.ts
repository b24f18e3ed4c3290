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
  let generation = 0;

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
  void show();
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

function hitItem(hit: SearchHit): HTMLLIElement {
  return h(
    'li',
    {},
    h(
      'a',
      { href: `#/compose?draft=${hit.draftId}`, class: 'item' },
      h('span', { class: 'text' }, hit.snippet),
      h('span', { class: 'meta' }, `draft ${hit.draftId} · match ${Math.round(hit.score * 100)} %`),
    ),
  );
}
