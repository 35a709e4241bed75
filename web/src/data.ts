import { call } from './api.js';
import { byId, el } from './dom.js';
import type { AuthorCounts, WritingEvaluationView } from './types.js';

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

type Estimate = WritingEvaluationView['rows'][number]['styleCosine'];

const estimate = (value: Estimate | undefined, asShare = false): string => {
  if (!value) return '—';
  const format = (number: number) => (asShare ? `${(number * 100).toFixed(0)}%` : number.toFixed(2));
  return `${format(value.mean)} [${format(value.interval[0])}, ${format(value.interval[1])}]`;
};

/** The latest writing evaluation's table, or why there is none. */
export async function refreshWritingEvaluation(): Promise<void> {
  const status = byId('writing-status');
  const body = byId('writing-eval').querySelector('tbody');
  try {
    const evaluation = await call<WritingEvaluationView>('GET', '/evaluations/writing');
    body?.replaceChildren(
      ...evaluation.rows.map((row) =>
        el(
          'tr',
          { class: row.kind },
          el('td', {}, row.author),
          el('td', {}, row.system),
          el('td', { class: 'number' }, estimate(row.styleCosine)),
          el('td', { class: 'number' }, estimate(row.attribution, true)),
          el('td', { class: 'number' }, estimate(row.groundedness, true)),
          el(
            'td',
            { class: 'number' },
            row.kind === 'system' ? `${String(row.notWriting)} of ${String(row.requests)}` : '—',
          ),
        ),
      ),
    );
    const failed = evaluation.sanity.filter((check) => !check.passed).length;
    status.textContent = `Evaluated ${new Date(evaluation.createdAt).toLocaleString()} on ${String(evaluation.requestsPerAuthor)} held-out articles per author${failed > 0 ? `; ${String(failed)} sanity check(s) failed, so read it with care` : ''}.`;
  } catch (error) {
    body?.replaceChildren();
    status.textContent = `No writing evaluation to show (${error instanceof Error ? error.message : String(error)}).`;
  }
}
