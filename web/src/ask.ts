import { ApiError, streamEvents } from './api.js';
import type { ConversationPanel } from './conversation.js';
import { byId, el, fieldError, formatMs } from './dom.js';
import type { Answer, Retrieval, Source } from './types.js';

/** The writing request: sends it, streams the answer in, shows the sources, the filter and timings. */
export function setUpAsk(conversation: ConversationPanel): void {
  const form = byId('ask-form', HTMLFormElement);
  const query = byId('query', HTMLTextAreaElement);
  const button = byId('ask-button', HTMLButtonElement);
  const answer = byId('answer');
  const status = byId('answer-status');

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const text = query.value.trim();
    fieldError(query, byId('query-error'), text ? null : 'write a request first');
    if (!text) {
      query.focus();
      return;
    }
    const author = byId('author', HTMLSelectElement).value;
    const k = Number(byId('k', HTMLInputElement).value || '9');
    const body = {
      query: text,
      k: Number.isInteger(k) ? Math.min(50, Math.max(1, k)) : 9,
      expand: byId('expand', HTMLInputElement).checked,
      rerank: byId('rerank', HTMLInputElement).checked,
      mode: byId('mode', HTMLSelectElement).value,
      stream: true,
      ...(author ? { author } : {}),
      ...(conversation.current() ? { conversation_id: conversation.current() } : {}),
    };
    button.disabled = true;
    byId('result').hidden = false;
    answer.textContent = '';
    answer.setAttribute('aria-busy', 'true');
    status.textContent = 'Finding sources…';
    renderSources([]);
    void stream(body, text).finally(() => {
      button.disabled = false;
      answer.setAttribute('aria-busy', 'false');
    });
  });

  async function stream(body: object, asked: string): Promise<void> {
    try {
      for await (const event of streamEvents('/rag', body)) {
        if (event.type === 'retrieval') {
          const retrieval = event.data as Retrieval;
          renderSources(retrieval.sources);
          renderFacts(retrieval);
          status.textContent = 'Writing…';
        } else if (event.type === 'token') {
          answer.append((event.data as { text: string }).text);
        } else if (event.type === 'done') {
          const done = event.data as Answer;
          // The guarded final text wins over what was streamed.
          if (done.answer !== null) answer.textContent = done.answer;
          renderFacts(done);
          renderTimings(done.timings);
          status.textContent =
            done.answer === null
              ? 'No generation model is configured: these are the sources the twin would use.'
              : `Done in ${formatMs(done.timings.total ?? 0)} ms.${done.conversation?.saved === false ? ` This turn was not kept: ${done.conversation.reason ?? 'unknown reason'}.` : ''}`;
          if (done.answer !== null && done.conversation?.saved) {
            conversation.answered({
              query: asked,
              answer: done.answer,
              conversationId: done.conversation.id,
            });
            query.value = '';
          }
        } else if (event.type === 'error') {
          status.textContent = `The answer stopped: ${(event.data as { error?: string }).error ?? 'unknown error'}`;
        }
      }
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (error instanceof ApiError && error.field === 'query')
        fieldError(query, byId('query-error'), message);
      status.textContent = `Not answered: ${message}`;
    }
  }
}

function renderSources(sources: readonly Source[]): void {
  const list = byId('sources');
  list.replaceChildren(
    ...sources.map((source) =>
      el(
        'li',
        {},
        source.link
          ? el('a', { href: source.link, rel: 'noopener noreferrer', target: '_blank' }, source.title)
          : el('strong', {}, source.title),
        el(
          'div',
          { class: 'meta' },
          `${source.platform} · ${source.category} · ${source.author} · score ${source.score.toFixed(3)}`,
        ),
        el('blockquote', {}, source.excerpt),
      ),
    ),
  );
  if (sources.length === 0) list.append(el('li', { class: 'meta' }, 'No sources yet.'));
}

const SEARCH_MODES: Record<string, string> = {
  hybrid: 'meaning and keywords (hybrid)',
  dense: 'meaning only (dense)',
  lexical: 'keywords only (lexical)',
};

function renderFacts(retrieval: Retrieval): void {
  const author = retrieval.author.name
    ? `${retrieval.author.name} (${retrieval.author.source})`
    : `none (${retrieval.author.source})`;
  const facts: [string, string][] = [
    ['Author filter', author],
    ['Queries', retrieval.queries.join(' | ')],
    ['Searched by', SEARCH_MODES[retrieval.mode] ?? retrieval.mode],
    ['Trace', retrieval.trace_id],
  ];
  if (retrieval.flags.length > 0) facts.push(['Flags', retrieval.flags.join('; ')]);
  byId('facts').replaceChildren(
    ...facts.flatMap(([term, value]) => [el('dt', {}, term), el('dd', {}, value)]),
  );
}

function renderTimings(timings: Record<string, number>): void {
  const body = byId('timings').querySelector('tbody');
  body?.replaceChildren(
    ...Object.entries(timings).map(([step, ms]) =>
      el(
        'tr',
        {},
        el('td', {}, step.replace(/_ms$/u, '').replace(/_/gu, ' ')),
        el('td', { class: 'number' }, formatMs(ms)),
      ),
    ),
  );
}
