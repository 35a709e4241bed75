import type { ConversationTurn } from '../ports/conversations.js';

/** An earlier exchange as the prompt shows it. */
export interface PriorTurn {
  query: string;
  answer: string;
}

/** What a turn of a conversation asks, made to stand on its own for retrieval. */
export interface FollowUp {
  /** The query retrieval runs: the request itself, or the request carried with the conversation's topic. */
  query: string;
  /** Set when `query` differs from what the user sent. */
  rewrittenFrom?: string;
  /** The conversation's author, unless the request names one. */
  author?: string;
  /** The earlier exchanges, oldest first, for the prompt. */
  history: PriorTurn[];
}

/**
 * A follow-up such as "shorter" or "now as a LinkedIn post" retrieves nothing useful alone. Without a
 * model to rewrite it, the request is carried with the topic it follows: the standalone query of the
 * previous turn, then this request, cut to the query limit from the older side. The author stays the
 * conversation's unless the request names another (whether the caller may use that one is checked as
 * for any request).
 */
export function followUp(
  request: { query: string; author?: string },
  turns: readonly ConversationTurn[],
  maxQueryChars: number,
): FollowUp {
  const previous = turns.at(-1);
  const history = turns.map((turn) => ({ query: turn.query, answer: turn.answer }));
  const author = request.author ?? previous?.author;
  if (!previous) return { query: request.query, history, ...(author ? { author } : {}) };
  const topic = previous.rewrittenQuery ?? previous.query;
  const carried = `${topic}\n${request.query}`;
  const query = carried.length <= maxQueryChars ? carried : carried.slice(carried.length - maxQueryChars);
  return { query, rewrittenFrom: request.query, history, ...(author ? { author } : {}) };
}
