import { ApiError, call } from './api.js';
import { byId, el, fieldError } from './dom.js';
import { linkProblem } from './link-shape.js';
import type { AuthorLinks, CollectionRun } from './types.js';

const POLL_MS = 1000;

/**
 * The links editor and collection runs: pick or name an author, add and remove links (checked here,
 * then by the server), save, start a run and follow it to the end.
 */
export async function setUpLinks(options: { onRunFinished: () => Promise<void> }): Promise<void> {
  const picker = byId('links-author', HTMLSelectElement);
  const name = byId('links-name', HTMLInputElement);
  const newLink = byId('new-link', HTMLInputElement);
  const status = byId('links-status');
  let saved: AuthorLinks[] = [];
  let links: string[] = [];

  const showLinks = () => {
    byId('link-list').replaceChildren(
      ...links.map((link, index) =>
        el(
          'li',
          {},
          el('span', {}, link),
          button('Remove', `Remove ${link}`, () => {
            links = links.filter((_, at) => at !== index);
            showLinks();
            newLink.focus();
          }),
        ),
      ),
    );
  };

  const load = async (select?: string) => {
    try {
      const listing = await call<{ authors: AuthorLinks[]; unreadable: { file: string; error: string }[] }>(
        'GET',
        '/authors',
      );
      saved = listing.authors;
      if (listing.unreadable.length > 0) {
        status.textContent = `Some link files could not be read: ${listing.unreadable.map((entry) => entry.file).join(', ')}`;
      }
    } catch (error) {
      status.textContent = `Links unavailable: ${error instanceof Error ? error.message : String(error)}`;
    }
    picker.replaceChildren(
      el('option', { value: '' }, 'New author…'),
      ...saved.map((entry) => el('option', { value: entry.slug }, entry.author)),
    );
    picker.value = select ?? saved[0]?.slug ?? '';
    choose();
  };

  const choose = () => {
    const entry = saved.find((candidate) => candidate.slug === picker.value);
    name.value = entry?.author ?? '';
    links = [...(entry?.links ?? [])];
    showLinks();
  };

  picker.addEventListener('change', choose);

  const add = () => {
    const problem = linkProblem(newLink.value);
    fieldError(newLink, byId('new-link-error'), problem);
    if (problem) {
      newLink.focus();
      return;
    }
    links.push(newLink.value.trim());
    newLink.value = '';
    showLinks();
  };
  byId('add-link').addEventListener('click', add);
  newLink.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') {
      event.preventDefault();
      add();
    }
  });

  const save = async (): Promise<AuthorLinks | undefined> => {
    fieldError(name, byId('links-error'), null);
    try {
      const result = await call<AuthorLinks>('PUT', '/authors', { author: name.value.trim(), links });
      status.textContent = `Saved ${String(result.links.length)} links for ${result.author}.`;
      await load(result.slug);
      return result;
    } catch (error) {
      showSaveError(error);
      return undefined;
    }
  };

  const showSaveError = (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    const field = error instanceof ApiError ? error.field : null;
    const target = field === 'author' ? name : field?.startsWith('links') ? newLink : null;
    fieldError(target, byId('links-error'), message);
    status.textContent = '';
  };

  byId('links-form').addEventListener('submit', (event) => {
    event.preventDefault();
    void save();
  });

  const startButton = byId('start-run', HTMLButtonElement);
  startButton.addEventListener('click', () => {
    void (async () => {
      startButton.disabled = true;
      try {
        const author = await save();
        if (!author) return;
        const run = await call<CollectionRun>('POST', '/collection-runs', { author: author.author });
        status.textContent = `Collection run started for ${run.author}.`;
        await follow(run);
        await options.onRunFinished();
      } catch (error) {
        showSaveError(error);
      } finally {
        startButton.disabled = false;
      }
    })();
  });

  await load();
}

function button(label: string, accessibleName: string, onClick: () => void): HTMLButtonElement {
  const element = el('button', { type: 'button', class: 'quiet', 'aria-label': accessibleName }, label);
  element.addEventListener('click', onClick);
  return element;
}

/** Polls the run until it ends, showing each link's outcome as it comes. */
async function follow(first: CollectionRun): Promise<void> {
  let run = first;
  showRun(run);
  while (run.state === 'running') {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    run = await call<CollectionRun>('GET', `/collection-runs/${encodeURIComponent(run.id)}`);
    showRun(run);
  }
}

function showRun(run: CollectionRun): void {
  byId('run').hidden = false;
  const state = byId('run-state');
  state.textContent = run.state === 'running' ? run.step : run.state;
  state.className = `badge ${run.state}`;
  const count = (outcome: string) => run.links.filter((link) => link.outcome === outcome).length;
  const parts = [
    `${run.author}: ${String(count('inserted'))} new, ${String(count('skipped'))} already there, ${String(count('blocked'))} blocked, ${String(count('failed'))} failed, ${String(count('pending'))} pending`,
  ];
  if (run.chunks !== undefined) parts.push(`${String(run.chunks)} chunks embedded`);
  if (run.error) parts.push(run.error);
  byId('run-summary').textContent = `${parts.join('; ')}.`;
  byId('run-links')
    .querySelector('tbody')
    ?.replaceChildren(
      ...run.links.map((link) =>
        el(
          'tr',
          {},
          el('td', {}, link.input),
          el('td', { class: `outcome-${link.outcome}` }, link.outcome),
          el('td', { class: 'number' }, String(link.documents)),
          el(
            'td',
            {},
            link.reason ?? link.detail ?? '',
            link.hint ? el('p', { class: 'hint' }, link.hint) : null,
          ),
        ),
      ),
    );
}
