import { z } from 'zod';
import type { ConversationTurn } from '../ports/conversations.js';
import type { JsonChatModel } from '../ports/json-chat.js';
import { parseJsonOrUndefined } from '../shared/json.js';

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

/** Characters of an earlier answer the rewrite prompt shows: the topic, not the whole draft. */
const ANSWER_EXCERPT_CHARS = 400;

export function rewritePrompt(query: string, history: readonly PriorTurn[]): string {
  const recent = history.slice(-3).map((turn) => {
    const answer =
      turn.answer.length > ANSWER_EXCERPT_CHARS
        ? `${turn.answer.slice(0, ANSWER_EXCERPT_CHARS)}…`
        : turn.answer;
    return `User: ${turn.query}\nAssistant: ${answer}`;
  });
  return [
    'A user is writing with an assistant. Rewrite their latest message as one standalone search query that',
    'finds the articles, posts and code it needs: name the topic the conversation is about, keep what the',
    'latest message asks for, and add nothing else.',
    'Answer with JSON only: {"query": "..."}.',
    `Conversation:\n"""\n${recent.join('\n\n')}\n"""`,
    `Latest message:\n"""\n${query}\n"""`,
  ].join('\n');
}

const RewriteReplySchema = z.object({ query: z.string().trim().min(1).max(1000) });

/**
 * The follow-up made standalone by the query model (self-query's and expansion's model); undefined
 * when it fails or answers out of shape, and the caller then keeps the carried topic.
 */
export async function rewriteWithModel(
  model: JsonChatModel,
  query: string,
  history: readonly PriorTurn[],
): Promise<string | undefined> {
  try {
    const reply = await model.completeJson(rewritePrompt(query, history), {
      type: 'object',
      properties: { query: { type: 'string', maxLength: 1000 } },
    });
    const parsed = RewriteReplySchema.safeParse(parseJsonOrUndefined(reply.text));
    return parsed.success ? parsed.data.query : undefined;
  } catch {
    return undefined;
  }
}
