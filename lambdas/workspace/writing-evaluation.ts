import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { mayUse, type AuthorScope } from '../access/scope.js';
import { WritingEvaluationSchema, type WritingEvaluationView } from './writing-evaluation-view.js';

export type { WritingEvaluationView };

/** Where `twin eval twin` keeps its latest report in the data folder. */
export const LATEST_WRITING_EVALUATION = join('evaluations', 'twin-fidelity.json');

/**
 * The latest writing evaluation in a data folder, as the web app shows it; undefined when none was
 * run there. A file that is not such a report is an error naming it (it was written by hand or by
 * an incompatible version).
 */
export async function readLatestWritingEvaluation(
  dataDir: string,
): Promise<WritingEvaluationView | undefined> {
  const file = join(dataDir, LATEST_WRITING_EVALUATION);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const parsed = WritingEvaluationSchema.safeParse(JSON.parse(text));
  if (!parsed.success)
    throw new Error(`${file} is not a writing evaluation report: run twin eval twin again`);
  const { createdAt, requestsPerAuthor, rows, sanity } = parsed.data;
  return { createdAt, requestsPerAuthor, rows, sanity };
}

/** The rows of the authors the caller may use; the corpus-wide sanity checks only for operators. */
export function scopedWritingEvaluation(
  view: WritingEvaluationView,
  scope: AuthorScope,
): WritingEvaluationView {
  if (scope.kind === 'all') return view;
  return { ...view, rows: view.rows.filter((row) => mayUse(scope, row.author)), sanity: [] };
}
