import { ApiError, call, uploadFile } from './api.js';
import { byId, el, fieldError } from './dom.js';
import { linkProblem } from './link-shape.js';
import type { AuthorLinks, CollectionRun, UploadTicket } from './types.js';

const POLL_MS = 1000;

/**
 * The links editor and collection runs: pick or name an author, add and remove links (checked here,
 * then by the server), save, start a run and follow it to the end.
 */
export async function setUpLinks(options: {
  onRunFinished: () => Promise<void>;
}): Promise<{ reload: () => Promise<void> }> {
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

  setUpExportImport({
    author: () => name.value.trim(),
    onRunFinished: options.onRunFinished,
    onError: showSaveError,
  });
  await load();
  return { reload: () => load() };
}

/** The export upload: a ticket, the upload, then a run that imports it (followed like any run). */
function setUpExportImport(options: {
  author: () => string;
  onRunFinished: () => Promise<void>;
  onError: (error: unknown) => void;
}): void {
  const file = byId('export-file', HTMLInputElement);
  const submit = byId('import-export', HTMLButtonElement);
  const problem = byId('export-error');
  byId('export-form').addEventListener('submit', (event) => {
    event.preventDefault();
    void (async () => {
      const chosen = file.files?.[0];
      const author = options.author();
      fieldError(
        file,
        problem,
        !author ? 'Name the author above first.' : chosen ? null : 'Choose the export file.',
      );
      if (!author || !chosen) return;
      submit.disabled = true;
      try {
        const ticket = await call<UploadTicket>('POST', '/exports');
        if (chosen.size > ticket.maxBytes) {
          fieldError(
            file,
            problem,
            `The file is over the ${String(Math.round(ticket.maxBytes / 1048576))} MB limit.`,
          );
          return;
        }
        byId('links-status').textContent = `Uploading ${chosen.name}…`;
        await uploadFile(ticket, chosen);
        const platform = byId('export-platform', HTMLSelectElement).value;
        const site = byId('export-site', HTMLInputElement).value.trim();
        const run = await call<CollectionRun>('POST', '/collection-runs', {
          author,
          export: { key: ticket.key, ...(platform ? { platform } : {}), ...(site ? { site } : {}) },
        });
        byId('links-status').textContent = `Importing ${chosen.name} for ${run.author}.`;
        await follow(run);
        await options.onRunFinished();
      } catch (error) {
        if (error instanceof ApiError && error.field === 'file') fieldError(file, problem, error.message);
        else options.onError(error);
      } finally {
        submit.disabled = false;
      }
    })();
  });
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
  const blocked = count('blocked') > 0 ? `${String(count('blocked'))} blocked, ` : '';
  const parts = [
    `${run.author}: ${String(count('inserted'))} new, ${String(count('skipped'))} already there, ${blocked}${String(count('failed'))} failed, ${String(count('pending'))} pending`,
  ];
  if (run.export) {
    const { platform, found, inserted, alreadyThere, skipped, problems } = run.export;
    const left = Object.entries(skipped).map(([reason, count]) => `${String(count)} ${reason}`);
    parts[0] = `${run.author}: ${platform} export, ${String(found)} found, ${String(inserted)} new, ${String(alreadyThere)} already there`;
    if (left.length > 0) parts.push(`skipped ${left.join(', ')}`);
    if (problems.length > 0) parts.push(`${String(problems.length)} could not be read`);
  }
  if (run.chunks !== undefined) parts.push(`${String(run.chunks)} chunks embedded`);
  if (run.error) parts.push(run.error);
  byId('run-summary').textContent = `${parts.join('; ')}.`;
  byId('run-links')
    .querySelector('tbody')
    ?.replaceChildren(
      ...(run.export?.problems ?? []).map((problem) =>
        el(
          'tr',
          {},
          el('td', {}, problem.line ? `${problem.file}, line ${String(problem.line)}` : problem.file),
          el('td', { class: 'outcome-failed' }, 'not read'),
          el('td', { class: 'number' }, '0'),
          el('td', {}, problem.reason),
        ),
      ),
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
