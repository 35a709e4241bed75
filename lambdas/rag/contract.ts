/**
 * What POST /rag answers, as it goes over the wire (snake_case). Free of imports on purpose: the web
 * app type-checks against this file too.
 */

export interface Source {
  rank: number;
  chunk_id: string;
  title: string;
  link: string | null;
  platform: string;
  category: string;
  author: string;
  score: number;
  excerpt: string;
}

export interface RagAnswer {
  answer: string | null;
  sources: Source[];
  author: { id: string | null; name: string | null; source: string };
  queries: string[];
  /** How the sources were searched: hybrid (meaning and keywords), dense or lexical. */
  mode: string;
  trace_id: string;
  timings: Record<string, number>;
  flags: string[];
}

/** Events of a streamed answer: the sources first, then the text as it is written, then the totals. */
export type RagEvent =
  | { type: 'retrieval'; data: Omit<RagAnswer, 'answer' | 'timings'> }
  | { type: 'token'; data: { text: string } }
  | { type: 'done'; data: RagAnswer };
