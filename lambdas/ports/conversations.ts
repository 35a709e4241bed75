/**
 * Conversations with the twin: each belongs to the principal that started it, holds its turns in order,
 * and expires as a whole a set number of days after it started. The embedded store keeps them in a
 * SQLite file; on AWS they are items of a DynamoDB table. Both pass test/contract/conversations.
 */

/** One exchange: what was asked, what the twin answered, and what the answer was built from. */
export interface ConversationTurn {
  /** 0 for the first turn, then in order. */
  index: number;
  /** ISO 8601. */
  at: string;
  query: string;
  /** The standalone query retrieval used, when the question was rewritten from the earlier turns. */
  rewrittenQuery?: string;
  /** The author whose voice and documents answered. */
  author?: string;
  answer: string;
  /** Ids of the chunks the answer was grounded on. */
  sources: string[];
  traceId?: string;
}

export type NewTurn = Omit<ConversationTurn, 'index' | 'at'>;

export interface ConversationSummary {
  /** Opaque, URL-safe. */
  id: string;
  /** The first query, shortened: how the conversation is shown in a list. */
  title: string;
  createdAt: string;
  updatedAt: string;
  turns: number;
  /** When the conversation and all its turns are deleted (ISO 8601). */
  expiresAt: string;
}

export interface Conversation extends ConversationSummary {
  history: ConversationTurn[];
}

export interface ConversationPage {
  conversations: ConversationSummary[];
  /** Pass back as `after` for the next page; absent on the last one. */
  next?: string;
}

export interface ConversationLimits {
  /** Turns a conversation may hold; the next one is refused with ConversationFullError. */
  maxTurns: number;
  /** Days a conversation is kept after it started. */
  retentionDays: number;
}

/** The conversation already holds its limit of turns: start a new one. */
export class ConversationFullError extends Error {
  constructor(readonly maxTurns: number) {
    super(`the conversation has reached its limit of ${String(maxTurns)} turns; start a new conversation`);
    this.name = 'ConversationFullError';
  }
}

/**
 * Where conversations are kept. Every method takes the principal (owner) whose conversations it may
 * see: another principal's conversation is indistinguishable from one that does not exist, and an
 * expired one is gone.
 */
export interface ConversationStore {
  /** Starts a conversation for `owner` with its first turn. */
  start(owner: string, turn: NewTurn, limits: ConversationLimits): Promise<ConversationTurnWritten>;
  /**
   * Adds the next turn to one of `owner`'s conversations; undefined when there is no such conversation
   * for them. Concurrent appends get distinct indexes.
   */
  append(
    owner: string,
    id: string,
    turn: NewTurn,
    limits: ConversationLimits,
  ): Promise<ConversationTurnWritten | undefined>;
  get(owner: string, id: string): Promise<Conversation | undefined>;
  /** Newest first (by last turn), `limit` at a time. */
  list(owner: string, options: { limit: number; after?: string }): Promise<ConversationPage>;
  /** Deletes the conversation and every turn of it; false when `owner` has no such conversation. */
  delete(owner: string, id: string): Promise<boolean>;
}

export interface ConversationTurnWritten {
  conversationId: string;
  turn: ConversationTurn;
}

/** How a conversation is titled: its first query, on one line, at most 80 characters. */
export function conversationTitle(query: string): string {
  const line = query.replace(/\s+/gu, ' ').trim();
  return line.length <= 80 ? line : `${line.slice(0, 79)}…`;
}

/** When a conversation started at `createdAt` expires. */
export function expiryOf(createdAt: Date, retentionDays: number): Date {
  return new Date(createdAt.getTime() + retentionDays * 24 * 60 * 60 * 1000);
}
