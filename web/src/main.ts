import { call, rememberApiKey, storedApiKey } from './api.js';
import { setUpAsk } from './ask.js';
import { setUpConversations } from './conversation.js';
import { refreshStats, refreshWritingEvaluation } from './data.js';
import { byId, el } from './dom.js';
import { setUpLinks } from './links.js';
import { setUpSignIn } from './sign-in.js';
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

/** Says who the twin takes the caller for, and which twins they may use. */
async function showCaller(): Promise<void> {
  const summary = byId('connection-who');
  try {
    const me = await call<{ principal: string; authors: '*' | string[] }>('GET', '/me');
    const twins = me.authors === '*' ? 'every twin' : me.authors.join(', ') || 'no twin yet';
    summary.textContent = me.principal === 'operator' ? '' : `: ${me.principal} (${twins})`;
  } catch {
    summary.textContent = '';
  }
}

async function refresh(): Promise<void> {
  const [authors] = await Promise.all([refreshStats(), showCaller(), refreshWritingEvaluation()]);
  listAuthors(authors);
}

async function start(): Promise<void> {
  const key = byId('api-key', HTMLInputElement);
  key.value = storedApiKey();
  await setUpSignIn();
  const conversations = setUpConversations();
  setUpAsk(conversations);
  byId('refresh-stats').addEventListener('click', () => void refresh());
  const [, links] = await Promise.all([
    refresh(),
    setUpLinks({ onRunFinished: refresh }),
    conversations.reload(),
  ]);
  // Another key may be another person: everything shown is read again with it.
  key.addEventListener('change', () => {
    rememberApiKey(key.value.trim());
    void Promise.all([refresh(), links.reload(), conversations.reload()]);
  });
  // Marks the moment the app can be used, for tests and the time-to-interactive benchmark.
  document.body.dataset.ready = 'true';
  performance.mark('twin-ready');
}

void start();
