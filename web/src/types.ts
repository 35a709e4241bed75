/** The twin's HTTP contract as the browser sees it: the server's own wire types where they are import-free. */

import type { RagAnswer } from '../../lambdas/rag/contract.js';

export type { Source, RagAnswer as Answer } from '../../lambdas/rag/contract.js';
export type { CollectionRun, RunLink } from '../../lambdas/ports/collection-runs.js';
export type { UploadTicket } from '../../lambdas/ports/export-uploads.js';
export type { WritingEvaluationView } from '../../lambdas/workspace/writing-evaluation-view.js';
export type {
  Conversation as ConversationView,
  ConversationPage,
} from '../../lambdas/ports/conversations.js';

/** What the retrieval event carries: the answer's fields known before generation. */
export type Retrieval = Omit<RagAnswer, 'answer' | 'timings'>;

export interface AuthorLinks {
  slug: string;
  author: string;
  links: string[];
}

type Counts = Record<'articles' | 'posts' | 'repositories', number>;

export interface AuthorCounts {
  id: string;
  name: string;
  warehouse: Counts;
  features: { cleaned: Counts; embedded: Counts };
}
