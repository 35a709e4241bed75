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
  /** The conversation this turn belongs to, when conversations are kept (POST /rag conversation_id). */
  conversation?: ConversationReceipt;
}

/** What a reply says of the conversation its turn belongs to. */
export interface ConversationReceipt {
  /** Pass as conversation_id to continue it; null when the turn started none. */
  id: string | null;
  /** The turn's index in the conversation, when it was kept. */
  turn: number | null;
  saved: boolean;
  /** Why the turn was not kept (the answer stands). */
  reason?: string;
}

/** Events of a streamed answer: the sources first, then the text as it is written, then the totals. */
export type RagEvent =
  | { type: 'retrieval'; data: Omit<RagAnswer, 'answer' | 'timings'> }
  | { type: 'token'; data: { text: string } }
  | { type: 'done'; data: RagAnswer };
