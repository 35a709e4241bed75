import { rememberApiKey, storedApiKey } from './api.js';
import { setUpAsk } from './ask.js';
import { refreshStats } from './data.js';
import { byId, el } from './dom.js';
import { setUpLinks } from './links.js';
import type { AuthorCounts } from './types.js';

/** Fills the author picker of the request form with the warehouse's authors. */
function listAuthors(authors: readonly AuthorCounts[]): void {
  const select = byId('author', HTMLSelectElement);
  const chosen = select.value;
  select.replaceChildren(
    el('option', { value: '' }, 'Let the twin decide'),
    ...authors.map((author) => el('option', { value: author.name }, author.name)),
  );
  select.value = authors.some((author) => author.name === chosen) ? chosen : '';
}

async function refresh(): Promise<void> {
  listAuthors(await refreshStats());
}

async function start(): Promise<void> {
  const key = byId('api-key', HTMLInputElement);
  key.value = storedApiKey();
  key.addEventListener('change', () => {
    rememberApiKey(key.value.trim());
    void refresh();
  });
  setUpAsk();
  byId('refresh-stats').addEventListener('click', () => void refresh());
  await Promise.all([refresh(), setUpLinks({ onRunFinished: refresh })]);
  // Marks the moment the app can be used, for tests and the time-to-interactive benchmark.
  document.body.dataset.ready = 'true';
  performance.mark('twin-ready');
}

void start();
