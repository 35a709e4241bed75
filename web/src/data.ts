import { call } from './api.js';
import { byId, el } from './dom.js';
import type { AuthorCounts } from './types.js';

const CATEGORIES = ['articles', 'posts', 'repositories'] as const;

/** The warehouse and feature-store counts; returns the authors, which the other panels list too. */
export async function refreshStats(): Promise<AuthorCounts[]> {
  const status = byId('data-status');
  status.textContent = 'Counting…';
  try {
    const { authors } = await call<{ authors: AuthorCounts[] }>('GET', '/stats');
    const rows = authors.flatMap((author) =>
      CATEGORIES.map((category, index) =>
        el(
          'tr',
          {},
          index === 0
            ? el('th', { scope: 'rowgroup', rowspan: String(CATEGORIES.length) }, author.name)
            : null,
          el('td', {}, category),
          el('td', { class: 'number' }, String(author.warehouse[category])),
          el('td', { class: 'number' }, String(author.features.cleaned[category])),
          el('td', { class: 'number' }, String(author.features.embedded[category])),
        ),
      ),
    );
    byId('stats')
      .querySelector('tbody')
      ?.replaceChildren(...rows);
    status.textContent =
      authors.length === 0 ? 'The warehouse is empty: add links and start a collection run.' : '';
    return authors;
  } catch (error) {
    status.textContent = `Counts unavailable: ${error instanceof Error ? error.message : String(error)}`;
    return [];
  }
}
